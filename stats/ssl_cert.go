package stats

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"

	"goproxy/proxy"
)

// The runtime certificate commands (management.txt): show ssl cert,
// set ssl cert <file> <payload>, commit ssl cert <file>, abort ssl cert
// <file>, with HAProxy's answers. They act on the graph's CertStore.

func init() {
	add := func(kw string, level Level, h handler) {
		commandTable = append(commandTable, command{words: strings.Fields(kw), level: level, run: h})
	}
	add("show ssl cert", LevelOperator, cmdShowSSLCert)
	add("set ssl cert", LevelAdmin, cmdSetSSLCert)
	add("commit ssl cert", LevelAdmin, cmdCommitSSLCert)
	add("abort ssl cert", LevelAdmin, cmdAbortSSLCert)
}

// certSource is the part of a Source that serves the certificate
// commands.
type certSource interface{ Certs() *proxy.CertStore }

// Certs returns the certificate store of the graph.
func (p *ProxySource) Certs() *proxy.CertStore { return p.g.Certs() }

func (s *session) certs() *proxy.CertStore {
	if cs, ok := s.srv.src.(certSource); ok {
		return cs.Certs()
	}
	return nil
}

func cmdShowSSLCert(s *session, args []string) string {
	cs := s.certs()
	name := argAt(args, 3)
	if name == "" {
		var b strings.Builder
		paths, tx := cs.Paths()
		if tx != "" {
			b.WriteString("# transaction\n*" + tx + "\n")
		}
		b.WriteString("# filename\n")
		for _, p := range paths {
			b.WriteString(p + "\n")
		}
		return b.String()
	}
	path, tx := strings.CutPrefix(name, "*")
	d, ok := cs.Detail(path, tx)
	if !ok {
		return "Can't display the certificate: Not found or the certificate is a bundle!\n"
	}
	return certDetailText(name, d)
}

// certDetailText renders one certificate as HAProxy's show ssl cert.
func certDetailText(name string, d proxy.CertDetail) string {
	var b strings.Builder
	leaf := d.Chain[0]
	status := "Used"
	if !d.Used {
		status = "Unused"
	}
	fmt.Fprintf(&b, "Filename: %s\nStatus: %s\n", name, status)
	certFields(&b, leaf)
	for _, c := range d.Chain[1:] {
		fmt.Fprintf(&b, "Chain Subject: %s\n", proxy.OnelineDN(c.Subject))
		fmt.Fprintf(&b, "Chain Issuer: %s\n", proxy.OnelineDN(c.Issuer))
	}
	fmt.Fprintf(&b, "OCSP Response Key: %x\n", d.OCSPKey)
	return b.String()
}

// sanText is OpenSSL's rendering of the subject alternative names.
func sanText(c *x509.Certificate) string {
	var parts []string
	for _, n := range c.DNSNames {
		parts = append(parts, "DNS:"+n)
	}
	for _, ip := range c.IPAddresses {
		parts = append(parts, "IP Address:"+ip.String())
	}
	for _, e := range c.EmailAddresses {
		parts = append(parts, "email:"+e)
	}
	return strings.Join(parts, ", ")
}

// keyAlgorithm is HAProxy's "Algorithm" line: EC256, RSA2048...
func keyAlgorithm(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		return fmt.Sprintf("EC%d", k.Curve.Params().BitSize)
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA%d", k.N.BitLen())
	case ed25519.PublicKey:
		return "ED25519"
	}
	return "Unknown"
}

func cmdSetSSLCert(s *session, args []string) string {
	path := argAt(args, 3)
	if path == "" || s.payload == "" {
		return "'set ssl cert expects a filename and a certificate as a payload\n"
	}
	created, err := s.certs().Set(path, []byte(s.payload))
	if err != nil {
		return err.Error() + "\nCan't update " + path + "!\n"
	}
	if created {
		return "Transaction created for certificate " + path + "!\n"
	}
	return "Transaction updated for certificate " + path + "!\n"
}

func cmdCommitSSLCert(s *session, args []string) string {
	path := argAt(args, 3)
	if path == "" {
		return "'commit ssl cert expects a filename\n"
	}
	if err := s.certs().Commit(path); err != nil {
		return err.Error() + "\nCan't commit " + path + "!\n"
	}
	return "Committing " + path + ".\nSuccess!\n"
}

func cmdAbortSSLCert(s *session, args []string) string {
	path := argAt(args, 3)
	if path == "" {
		return "'abort ssl cert' expects a filename\n"
	}
	if err := s.certs().Abort(path); err != nil {
		return err.Error() + "\n"
	}
	return "Transaction aborted for certificate '" + path + "'!\n"
}
