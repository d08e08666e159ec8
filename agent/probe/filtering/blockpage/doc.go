// Package blockpage recognises the pages web filters show instead of a
// blocked site, so that the filtering probe can tell "blocked by the
// school's filter" from "the site is down" or "the site changed".
//
// Fingerprints are data: one YAML file per filter product (vendors/),
// embedded, and a school may add or replace fingerprints by id from a folder
// (Load), for instance when its provider has a customised block page. Each
// fingerprint cites a public source showing the block page it describes.
//
// Match tries the fingerprints, then a deliberately conservative generic
// rule for block pages nobody has described yet (vendor "unknown"): a short
// page that talks about blocking in more than one way, or a redirect to a
// host on a private address. A long ordinary page that merely says
// "blocked" is not a block page.
//
// Loading is strict: an unknown key, a bad regular expression, a status
// that is not an HTTP status or a fingerprint with nothing to match on is
// an error naming the file, the line and the key.
package blockpage
