package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The school's e2guardian (Debian's 5.3.5) runs from copies of the
// packaged /etc/e2guardian, one per instance, with these changes:
//
//   - two filter groups, chosen by the proxy-basic auth plugin from the
//     user name in Proxy-Authorization (no password check: e2guardian
//     leaves that to an upstream proxy, and there is none):
//     filtergroupslist maps student to filter1 and staff to filter2.
//     Requests without the header are not identified by proxy-basic,
//     and e2guardian then passes them through unfiltered (expecting the
//     upstream proxy to ask for credentials) and cuts their bodies short,
//     so the ip plugin comes second and puts every client (all are on
//     127.0.0.1) in filter1; mapauthtoports is off so that two plugins
//     can serve one port. Unknown user names get filter1 as well;
//   - filter2 (e2guardianf2.conf) is filter1's file with its own banned
//     site list;
//   - the MITM instance has enablessl on, sslmitm on and mitmcheckcert
//     on in both groups, the intercept CA and the generated
//     certificates' key in its private/ directory, the public CA in
//     private/trusted/ (sslcertificatepath, an OpenSSL hashed
//     directory), and generated certificates valid from yesterday for a
//     month (the default validity, 2014 to 2024, has run out).

// startProxies starts the two e2guardian instances in School and waits
// until both accept connections.
func (s *SchoolNet) startProxies(t testing.TB, o SchoolNetOptions) {
	t.Helper()
	// e2guardian lower-cases some paths it reads, so the directory must
	// be lower case, unlike t.TempDir's.
	parent, err := os.MkdirTemp("", "probity-e2g")
	if err != nil {
		t.Fatalf("NewSchoolNet: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	// e2guardian drops root for its own user, which must still read its
	// configuration and write generated certificates.
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatalf("NewSchoolNet: %v", err)
	}

	plainDir := filepath.Join(parent, "plain")
	mitmDir := filepath.Join(parent, "mitm")
	for _, dir := range []string{plainDir, mitmDir} {
		if err := writeE2guardianConf(dir, o, dir == mitmDir); err != nil {
			t.Fatalf("NewSchoolNet: e2guardian configuration in %s: %v", dir, err)
		}
	}
	if err := writeMITMCerts(mitmDir, s.PublicCAFile); err != nil {
		t.Fatalf("NewSchoolNet: intercept CA: %v", err)
	}
	if err := chownToE2guardian(parent); err != nil {
		t.Fatalf("NewSchoolNet: %v", err)
	}
	s.InterceptCAFile = filepath.Join(mitmDir, "private", "ca.pem")

	type instance struct {
		d    *daemon
		addr string
	}
	var started []instance
	for _, c := range []struct {
		dir  string
		port int
	}{{plainDir, proxyPort}, {mitmDir, mitmPort}} {
		// -N keeps it in the foreground (nodaemon alone does not), so
		// Kill ends it.
		d := startDaemon(t, s.School, "e2guardian", "-N", "-c", filepath.Join(c.dir, "e2guardian.conf"))
		d.name = "e2guardian (" + filepath.Base(c.dir) + ")"
		started = append(started, instance{d, net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port))})
	}
	for _, in := range started {
		in.d.waitReady(t, func() error {
			c, err := s.School.Dial("tcp", in.addr, time.Second)
			if err == nil {
				c.Close()
			}
			return err
		})
	}
	s.Proxy = &url.URL{Scheme: "http", Host: started[0].addr}
	s.MITMProxy = &url.URL{Scheme: "http", Host: started[1].addr}
}

// writeE2guardianConf writes an instance's configuration into dir.
func writeE2guardianConf(dir string, o SchoolNetOptions, mitm bool) error {
	if out, err := exec.Command("cp", "-r", "/etc/e2guardian", dir).CombinedOutput(); err != nil {
		return fmt.Errorf("copying /etc/e2guardian: %v: %s", err, out)
	}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return editFile(p, func(s string) string { return strings.ReplaceAll(s, "/etc/e2guardian", dir) })
	})
	if err != nil {
		return err
	}
	port, tport := proxyPort, proxyTransparentPort
	if mitm {
		port, tport = mitmPort, mitmTransparentPort
	}
	main := map[string]string{
		`(?m)^filterip =.*$`:                           "filterip = 127.0.0.1",
		`(?m)^filterports =.*$`:                        "filterports = " + strconv.Itoa(port),
		`(?m)^transparenthttpsport =.*$`:               "transparenthttpsport = " + strconv.Itoa(tport),
		`(?m)^nodaemon =.*$`:                           "nodaemon = on",
		`(?m)^httpworkers =.*$`:                        "httpworkers = 20",
		`(?m)^filtergroups =.*$`:                       "filtergroups = 2",
		`(?m)^#(authplugin = '.*/proxy-basic\.conf')$`: "$1",
		`(?m)^#(authplugin = '.*/ip\.conf')$`:          "$1",
		`(?m)^#mapauthtoports =.*$`:                    "mapauthtoports = off",
	}
	// Its own pid file: the default one in /var/run would make a second
	// copy refuse to start ("I seem to be running already").
	extra := fmt.Sprintf("\npidfilename = '%s'\nloglocation = '%s'\n",
		filepath.Join(dir, "e2guardian.pid"), filepath.Join(dir, "access.log"))
	if mitm {
		main[`(?m)^enablessl =.*$`] = "enablessl = on"
		main[`(?m)^#sslcertificatepath =.*$`] = "sslcertificatepath = '" + filepath.Join(dir, "private", "trusted") + "'"
		now := time.Now()
		extra += fmt.Sprintf("generatedcertstart = %d\ngeneratedcertend = %d\n",
			now.Add(-24*time.Hour).Unix(), now.Add(30*24*time.Hour).Unix())
	}
	mainConf := filepath.Join(dir, "e2guardian.conf")
	b, err := os.ReadFile(mainConf)
	if err != nil {
		return err
	}
	conf, err := replaceAll(string(b), main)
	if err != nil {
		return fmt.Errorf("%s: %w", mainConf, err)
	}
	if err := os.WriteFile(mainConf, []byte(conf+extra), 0o644); err != nil {
		return err
	}

	group := map[string]string{`(?m)^groupname =.*$`: "groupname = 'student'"}
	if mitm {
		group[`(?m)^sslmitm =.*$`] = "sslmitm = on"
		group[`(?m)^mitmcheckcert =.*$`] = "mitmcheckcert = on"
	}
	f1 := filepath.Join(dir, "e2guardianf1.conf")
	if b, err = os.ReadFile(f1); err != nil {
		return err
	}
	student, err := replaceAll(string(b), group)
	if err != nil {
		return fmt.Errorf("%s: %w", f1, err)
	}
	if err := os.WriteFile(f1, []byte(student), 0o644); err != nil {
		return err
	}
	staff := strings.Replace(student, "groupname = 'student'", "groupname = 'staff'", 1)
	staff = strings.ReplaceAll(staff, "/lists/bannedsitelist'", "/lists/staffbannedsitelist'")
	if err := os.WriteFile(filepath.Join(dir, "e2guardianf2.conf"), []byte(staff), 0o644); err != nil {
		return err
	}

	lists := filepath.Join(dir, "lists")
	banned, err := os.ReadFile(filepath.Join(lists, "bannedsitelist"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(lists, "staffbannedsitelist"),
		append(banned, "\n"+lines(o.ProxyBanned)...), 0o644); err != nil {
		return err
	}
	var headers []string
	for _, re := range slices.Sorted(maps.Keys(o.ProxyAddHeader)) {
		// A regexpreplacelist replaces the part of the URL that matched
		// and adds the result as the header, so the expression must
		// cover the whole URL. No escaping: the list's quotes have none.
		headers = append(headers, `"^.*(`+re+`).*$"->"`+o.ProxyAddHeader[re]+`"`)
	}
	for name, add := range map[string]string{
		"bannedsitelist":       lines(o.ProxyBanned) + lines(o.ProxyBannedStudent),
		"filtergroupslist":     "student=filter1\nstaff=filter2\n",
		"authplugins/ipgroups": "127.0.0.1 = filter1\n",
		"addheaderregexplist":  lines(headers),
	} {
		if err := editFile(filepath.Join(lists, name), func(s string) string { return s + "\n" + add }); err != nil {
			return err
		}
	}
	return nil
}

// writeMITMCerts writes the school CA and the generated certificates'
// key where the MITM instance's configuration expects them, and the
// public CA, which it checks the sites' certificates against, into the
// OpenSSL hashed directory sslcertificatepath names.
func writeMITMCerts(dir, publicCAFile string) error {
	priv := filepath.Join(dir, "private")
	trusted := filepath.Join(priv, "trusted")
	for _, d := range []string{filepath.Join(priv, "generatedcerts"), trusted} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	ca, err := newCA("Probity rig school intercept CA")
	if err != nil {
		return err
	}
	caKey, err := ca.keyPEM()
	if err != nil {
		return err
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	certKey, err := keyPEM(k)
	if err != nil {
		return err
	}
	public, err := os.ReadFile(publicCAFile)
	if err != nil {
		return err
	}
	// OpenSSL looks a CA up by its subject's hash, which only openssl
	// computes conveniently.
	hash, err := exec.Command("openssl", "x509", "-hash", "-noout", "-in", publicCAFile).Output()
	if err != nil {
		return fmt.Errorf("openssl x509 -hash %s: %w", publicCAFile, err)
	}
	for path, b := range map[string][]byte{
		filepath.Join(priv, "ca.pem"):                                ca.certPEM(),
		filepath.Join(priv, "ca.key"):                                caKey,
		filepath.Join(priv, "cert.key"):                              certKey,
		filepath.Join(trusted, strings.TrimSpace(string(hash))+".0"): public,
	} {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// chownToE2guardian gives dir to the user e2guardian switches to (the
// package's proxyuser), which writes its log and generated certificates
// there.
func chownToE2guardian(dir string) error {
	u, err := user.Lookup("e2guardian")
	if err != nil {
		return nil // it then stays root, or fails saying which file it cannot open
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

func editFile(path string, f func(string) string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(f(string(b))), 0o644)
}

// replaceAll applies each pattern -> replacement of m to s; a pattern
// that matches nothing is an error, since the packaged configuration
// then differs from the one this rig was written for.
func replaceAll(s string, m map[string]string) (string, error) {
	for pat, v := range m {
		re := regexp.MustCompile(pat)
		if !re.MatchString(s) {
			return "", fmt.Errorf("no line matches %s", pat)
		}
		s = re.ReplaceAllString(s, v)
	}
	return s, nil
}

func lines(l []string) string {
	var b strings.Builder
	for _, s := range l {
		b.WriteString(s + "\n")
	}
	return b.String()
}
