// Package profile holds what the agent reads from a device over SNMP, as
// data: profiles in YAML that name numeric OIDs, the measurement each read
// feeds and how each value becomes a field or a tag. No MIB compiler is
// involved; the MIB object name sits next to every OID for people.
//
// The shipped profiles are embedded (agent/snmp/profiles); a trust may add
// profiles or replace shipped ones by name from a folder (LoadSet). A
// profile may extend others (vendor profiles extend generic); Resolve
// flattens that into one list of reads, a read of the same name replacing
// the inherited one. Match picks the profile for a device from its
// sysObjectID (longest prefix wins) and sysDescr, falling back to generic.
//
// End-of-support dates (eos.yaml, also overridable) are loaded by LoadEOS
// and looked up by vendor and model or longest model prefix.
//
// Loading is strict: an unknown key, a malformed OID, an unknown
// measurement or type, a duplicate field or an extends cycle is an error
// naming the file, the line and the key, so a bad edit fails a test rather
// than a poll. See README.md for the format.
package profile
