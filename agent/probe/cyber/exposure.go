package cyber

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/config/cfgerr"
)

// Roles a management target may have; they choose the default ports and
// the severity of an exposure.
var Roles = []string{"firewall", "switch", "controller", "wlc", "ap", "router", "ups", "other"}

// commonMgmtPorts are the TCP ports of management on almost every network
// device: SSH, Telnet, HTTP, HTTPS and the usual alternative web ports.
var commonMgmtPorts = []int{22, 23, 80, 443, 4443, 8080, 8443}

// roleExtraPorts are vendor ports added to commonMgmtPorts by role, each
// the factory default of a product common in schools (README.md lists
// them).
var roleExtraPorts = map[string][]int{
	"firewall":   {4444},       // Sophos Firewall web admin
	"controller": {8043, 8088}, // TP-Link Omada controller, HTTPS and HTTP
	"wlc":        {4343},       // Aruba mobility controller web UI
	"router":     {8291},       // MikroTik Winbox
}

// DefaultPorts are the ports checked for a role when a target lists none.
func DefaultPorts(role string) []int {
	ps := slices.Concat(commonMgmtPorts, roleExtraPorts[role])
	slices.Sort(ps)
	return ps
}

// telnetPort and httpPorts are cleartext management: reachable at all, from
// any VLAN, they are a finding of their own.
const telnetPort = 23

var httpPorts = []int{80, 8080, 8088}

// ExposureTarget is one device whose management must not be reachable from
// user VLANs.
type ExposureTarget struct {
	Name  string `yaml:"name"`  // the start of the target tag; default: host
	Host  string `yaml:"host"`  // IP address or name
	Role  string `yaml:"role"`  // one of Roles
	Ports []int  `yaml:"ports"` // TCP ports; default: DefaultPorts(role)
}

func (t ExposureTarget) name() string {
	if t.Name != "" {
		return t.Name
	}
	return t.Host
}

func (t ExposureTarget) ports() []int {
	if len(t.Ports) > 0 {
		return t.Ports
	}
	return DefaultPorts(t.Role)
}

// ExposureConfig is the `exposure` section.
type ExposureConfig struct {
	Targets []ExposureTarget `yaml:"targets"`
}

func (c *ExposureConfig) validate() error {
	var errs []error
	if len(c.Targets) == 0 {
		errs = append(errs, cfgerr.Errorf("targets", "at least one target is required"))
	}
	seen := map[string]int{}
	for i, t := range c.Targets {
		base := fmt.Sprintf("targets[%d]", i)
		if t.Host == "" {
			errs = append(errs, cfgerr.Errorf(base+".host", "required"))
		} else if strings.ContainsAny(t.Host, ":/ ") && net.ParseIP(t.Host) == nil {
			errs = append(errs, cfgerr.Errorf(base+".host", "must be an IP address or a host name without port, not %q", t.Host))
		}
		if !slices.Contains(Roles, t.Role) {
			errs = append(errs, cfgerr.Errorf(base+".role", "must be one of %v, not %q", Roles, t.Role))
		}
		ports := map[int]bool{}
		for j, p := range t.Ports {
			if p < 1 || p > 65535 {
				errs = append(errs, cfgerr.Errorf(fmt.Sprintf("%s.ports[%d]", base, j), "must be 1 to 65535, not %d", p))
			}
			if ports[p] {
				errs = append(errs, cfgerr.Errorf(fmt.Sprintf("%s.ports[%d]", base, j), "port %d is listed twice", p))
			}
			ports[p] = true
		}
		if t.Host != "" {
			if j, dup := seen[t.name()]; dup {
				errs = append(errs, cfgerr.Errorf(base+".name", "%q is already the name of targets[%d]", t.name(), j))
			}
			seen[t.name()] = i
		}
	}
	return errors.Join(errs...)
}

func (c *ExposureConfig) build(probe.Deps) (checker, error) {
	return &exposureCheck{targets: c.Targets}, nil
}

type exposureCheck struct{ targets []ExposureTarget }

// maxDials bounds how many connections are attempted at once.
const maxDials = 16

func (x *exposureCheck) run(ctx context.Context, e *env) []Result {
	type job struct {
		t    ExposureTarget
		port int
	}
	var jobs []job
	for _, t := range x.targets {
		for _, p := range t.ports() {
			jobs = append(jobs, job{t, p})
		}
	}
	res := make([][]Result, len(jobs))
	sem := make(chan struct{}, maxDials)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			res[i] = probePort(ctx, e, j.t, j.port)
		})
	}
	wg.Wait()
	return slices.Concat(res...)
}

// reachability is how a connection attempt ended, as said in detail and
// the `result` field.
func reachability(err error) (result string, ok bool, why string) {
	switch {
	case err == nil:
		return "open", true, "accepted a TCP connection"
	case errors.Is(err, syscall.ENETUNREACH):
		// No route from this machine: says nothing about the device's ACL.
		return string(probe.Unreachable), false, "could not be tried: this machine has no route to it"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return string(probe.Unreachable), true, "was not reachable: host unreachable (ICMP from a router or firewall, or no ARP answer)"
	}
	switch o := probe.Classify(err); o {
	case probe.Refused:
		return string(o), true, "refused the connection (TCP reset or ICMP port unreachable)"
	case probe.Timeout:
		return string(o), true, "did not answer (timed out: filtered, or the device is off)"
	case probe.DNSError:
		return string(o), false, "could not be tried: the name does not resolve"
	default:
		return string(probe.Error), false, "could not be tried: " + err.Error()
	}
}

func probePort(ctx context.Context, e *env, t ExposureTarget, port int) []Result {
	addr := net.JoinHostPort(t.Host, strconv.Itoa(port))
	tag := t.name() + ":" + strconv.Itoa(port)
	timeout := e.cfg.Timeout
	dctx, cancel := context.WithTimeout(ctx, timeout)
	conn, err := (&net.Dialer{Timeout: timeout}).DialContext(dctx, "tcp", addr)
	cancel()
	if conn != nil {
		defer conn.Close()
	}
	result, ok, why := reachability(err)
	if err != nil && ctx.Err() != nil {
		// The run's own deadline, not the device: says nothing.
		result, ok, why = string(probe.Error), false, "could not be tried before the probe's run ended"
	}
	reachable := err == nil
	fields := func() map[string]any {
		return map[string]any{"port": int64(port), "role": t.Role, "reachable": reachable, "result": result}
	}
	user := UserVLAN(e.cfg.VLAN)

	exp := Result{Check: CheckExposure, Target: tag, OK: ok, Fields: fields()}
	exp.Detail = fmt.Sprintf("%s port %d (%s) %s from the %s VLAN.", t.name(), port, t.Role, why, e.cfg.VLAN)
	if reachable && user {
		exp.Finding, exp.Severity = true, SeverityMedium
		if t.Role == "firewall" || t.Role == "router" {
			exp.Severity = SeverityHigh
		}
		exp.Detail = fmt.Sprintf("The management port %d of %s (%s) is reachable from the %s VLAN, a user VLAN.", port, t.name(), t.Role, e.cfg.VLAN)
		exp.Fix = fmt.Sprintf("Allow management only from the management VLAN: add a rule on the firewall or the switch ACLs that drops traffic from the %s VLAN to %s port %d, or bind the device's management to the management VLAN only.", e.cfg.VLAN, t.Host, port)
	}
	out := []Result{exp}

	if port != telnetPort && !slices.Contains(httpPorts, port) {
		return out
	}
	ct := Result{Check: CheckCleartextMgmt, Target: tag, OK: ok, Fields: fields()}
	if !reachable {
		ct.Detail = fmt.Sprintf("%s port %d (cleartext management) %s.", t.name(), port, why)
		return append(out, ct)
	}
	sev := SeverityMedium
	if user {
		sev = SeverityHigh
	}
	if port == telnetPort {
		ct.Finding, ct.Severity = true, sev
		ct.Fields["protocol"] = "telnet"
		ct.Detail = fmt.Sprintf("%s accepts connections on the Telnet port 23 from the %s VLAN: passwords typed there cross the network unencrypted.", t.name(), e.cfg.VLAN)
		ct.Fix = fmt.Sprintf("Turn Telnet off on %s and manage it over SSH, from the management VLAN only.", t.name())
		return append(out, ct)
	}
	ct.Fields["protocol"] = "http"
	status, location, herr := httpAnswer(conn, t.Host, timeout)
	switch {
	case herr != nil:
		ct.Fields["http"] = false
		ct.Detail = fmt.Sprintf("%s port %d accepts connections but gave no HTTP answer (%v), so it is not counted as plain HTTP management.", t.name(), port, herr)
	case status >= 300 && status < 400 && strings.HasPrefix(strings.ToLower(location), "https://"):
		ct.Fields["http"] = true
		ct.Fields["http_status"] = int64(status)
		ct.Fields["location"] = location
		ct.Detail = fmt.Sprintf("%s port %d answers plain HTTP only with a redirect to %s.", t.name(), port, location)
	default:
		ct.Fields["http"] = true
		ct.Fields["http_status"] = int64(status)
		if location != "" {
			ct.Fields["location"] = location
		}
		ct.Finding, ct.Severity = true, sev
		ct.Detail = fmt.Sprintf("%s serves plain HTTP on port %d (status %d) from the %s VLAN: its management login can be read on the network.", t.name(), port, status, e.cfg.VLAN)
		ct.Fix = fmt.Sprintf("Turn off plain HTTP management on %s (or make port %d only redirect to HTTPS), and allow HTTPS management from the management VLAN only.", t.name(), port)
	}
	return append(out, ct)
}

// httpAnswer sends a minimal GET on conn and reads the status and Location
// of the answer; the body is not read.
func httpAnswer(conn net.Conn, host string, timeout time.Duration) (status int, location string, err error) {
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return 0, "", err
	}
	h := host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	req := "GET / HTTP/1.1\r\nHost: " + h + "\r\nUser-Agent: probity\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		return 0, "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, "", err
	}
	resp.Body.Close()
	location = resp.Header.Get("Location")
	if location != "" {
		// A relative Location stays on plain HTTP.
		if u, err := url.Parse(location); err == nil && u.Scheme != "" {
			location = u.String()
		}
	}
	return resp.StatusCode, location, nil
}
