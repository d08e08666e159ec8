package standards

// PlannedProbe is a probe kind the agent does not have yet. Rows it will
// feed name it in awaiting_probe, so a report can say which probe will
// measure them instead of showing a gap with no reason.
type PlannedProbe struct {
	Name string `json:"name"` // the agent kind it will have (agent/probe/<name>)
	Doc  string `json:"doc"`  // what it will measure, in plain English
	// Measurements of measurements.yaml it will produce; empty when its
	// measurement is not designed yet.
	Measurements []string `json:"measurements,omitempty"`
}

// PlannedProbes lists every name awaiting_probe accepts. When one of them
// lands in the agent, its rows get rules and lose awaiting_probe (a test
// checks that no name here is a probe the agent already has).
var PlannedProbes = []PlannedProbe{
	// The snmp probe has landed and writes its measurements; the rows still
	// naming it wait for rules, not data, so it lists no measurements.
	{Name: "snmp", Doc: "SNMP polls of routers, switches, firewalls and UPSs: interfaces, PoE, power, inventory and firmware"},
	// wifi_ap is written by the snmp probe's controller profiles now; what
	// the wifi probe adds is not designed yet.
	{Name: "wifi", Doc: "wireless controller polls and radio scans: access points, clients, Wi-Fi generation and security"},
	{Name: "portcheck", Doc: "TCP and UDP connection tests from a school network: VPN ports, guest isolation (management interfaces are the cyber probe's)"},
}

// Planned returns the planned probe called name, or false.
func Planned(name string) (PlannedProbe, bool) {
	for _, p := range PlannedProbes {
		if p.Name == name {
			return p, true
		}
	}
	return PlannedProbe{}, false
}
