// Package suite holds the web-filtering test suites as data: which
// addresses a school's filter must block, must allow, where SafeSearch must
// be enforced and which circumvention routes must be closed. The probe reads
// a suite and tests each target through the same path pupils use; the
// outcome classifier turns what it saw into verdicts.
//
// The default suite is embedded (suites/); a school may add suites or
// replace shipped ones by name from a folder (Load). Targets that only a
// school can supply (the IWF and CTIRU test URLs, its own VPN endpoint) are
// placeholders: they load without an address, and Configured tells the
// probe there is nothing to test, so a verdict can say "not evidenced"
// rather than "passed".
//
// Loading is strict: an unknown key, a bad URL or host name, a duplicate id
// or a kind and expectation that disagree is an error naming the file, the
// line and the key.
package suite
