package stats

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"goproxy/proxy"
)

// The runtime commands of the bind's verification files (management.txt):
// show ssl ca-file|crl-file [<file>[:<index>]], set ssl ca-file|crl-file
// <file> <payload>, commit and abort, with HAProxy's answers. They act on
// the graph's CertStore.

func init() {
	add := func(kw string, level Level, h handler) {
		commandTable = append(commandTable, command{words: strings.Fields(kw), level: level, run: h})
	}
	for _, k := range []struct {
		word string
		kind proxy.CAKind
	}{{"ca-file", proxy.KindCA}, {"crl-file", proxy.KindCRL}} {
		kind, word := k.kind, k.word
		add("show ssl "+word, LevelOperator, func(s *session, args []string) string { return showCAFile(s, args, kind) })
		add("set ssl "+word, LevelAdmin, func(s *session, args []string) string { return setCAFile(s, args, kind, word) })
		add("commit ssl "+word, LevelAdmin, func(s *session, args []string) string { return commitCAFile(s, args, kind) })
		add("abort ssl "+word, LevelAdmin, func(s *session, args []string) string { return abortCAFile(s, args, kind, word) })
		add("new ssl "+word, LevelAdmin, func(s *session, args []string) string { return newCAFile(s, args, kind, word) })
		add("del ssl "+word, LevelAdmin, func(s *session, args []string) string { return delCAFile(s, args, kind, word) })
	}
}

func showCAFile(s *session, args []string, kind proxy.CAKind) string {
	cs := s.certs()
	name := argAt(args, 3)
	if name == "" {
		files, tx := cs.CAFiles(kind)
		var b strings.Builder
		if tx.Path != "" {
			b.WriteString("# transaction\n*" + tx.Path)
			if kind == proxy.KindCA {
				fmt.Fprintf(&b, " - %d certificate(s)", tx.Count)
			}
			b.WriteString("\n")
		}
		b.WriteString("# filename\n")
		for _, f := range files {
			b.WriteString(f.Path)
			if kind == proxy.KindCA {
				fmt.Fprintf(&b, " - %d certificate(s)", f.Count)
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	notFound := "Can't display the CA file : Not found!\n"
	what := "CA"
	if kind == proxy.KindCRL {
		notFound, what = "Can't display the CRL file : Not found!\n", "CRL"
	}
	index := 0
	if path, idx, ok := strings.Cut(name, ":"); ok {
		n, err := strconv.Atoi(idx)
		if err != nil || n <= 0 {
			return "wrong " + what + " index after colons in '" + name + "'!" // HAProxy's text has no new line
		}
		name, index = path, n
	}
	path, tx := strings.CutPrefix(name, "*")
	objs, status, ok := cs.CAFileDetail(path, kind, tx)
	if !ok {
		return notFound
	}
	if status == proxy.CAEmpty && kind == proxy.KindCA {
		return "" // HAProxy 2.6 drops its text for an empty CA file
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Filename: %s\nStatus: %s\n", name, status)
	for i, o := range objs {
		if kind == proxy.KindCA {
			// From the index on, the first certificate (all without one).
			if i < index-1 || o.Cert == nil {
				continue
			}
			fmt.Fprintf(&b, " \nCertificate #%d:\n", i+1)
			certFields(&b, o.Cert)
			if index > 0 {
				break
			}
			continue
		}
		if o.CRL == nil || (index > 0 && index-1 != i) {
			continue
		}
		fmt.Fprintf(&b, " \nCertificate Revocation List #%d:\n", i+1)
		crlFields(&b, o.CRL)
	}
	return b.String()
}

// asn1Time is OpenSSL's ASN1_TIME_print.
const asn1Time = "Jan _2 15:04:05 2006 GMT"

// certFields renders the fields of a certificate common to show ssl cert
// and show ssl ca-file.
func certFields(b *strings.Builder, c *x509.Certificate) {
	fmt.Fprintf(b, "Serial: %X\n", c.SerialNumber.Bytes())
	fmt.Fprintf(b, "notBefore: %s\n", c.NotBefore.UTC().Format(asn1Time))
	fmt.Fprintf(b, "notAfter: %s\n", c.NotAfter.UTC().Format(asn1Time))
	fmt.Fprintf(b, "Subject Alternative Name: %s\n", sanText(c))
	fmt.Fprintf(b, "Algorithm: %s\n", keyAlgorithm(c))
	fmt.Fprintf(b, "SHA1 FingerPrint: %X\n", sha1.Sum(c.Raw))
	fmt.Fprintf(b, "Subject: %s\n", proxy.OnelineDN(c.Subject))
	fmt.Fprintf(b, "Issuer: %s\n", proxy.OnelineDN(c.Issuer))
}

// crlFields renders a revocation list as HAProxy's show ssl crl-file,
// after "openssl crl -text".
func crlFields(b *strings.Builder, l *x509.RevocationList) {
	fmt.Fprintf(b, "Version %d\n", crlVersion(l))
	fmt.Fprintf(b, "Signature Algorithm: %s\n", sigAlgName(l.SignatureAlgorithm))
	fmt.Fprintf(b, "Issuer: %s\n", proxy.OnelineDN(l.Issuer))
	fmt.Fprintf(b, "Last Update: %s\n", l.ThisUpdate.UTC().Format(asn1Time))
	b.WriteString("Next Update: ")
	if l.NextUpdate.IsZero() {
		return // OpenSSL cannot print the missing date: HAProxy stops here
	}
	b.WriteString(l.NextUpdate.UTC().Format(asn1Time) + "\n")
	if len(l.RevokedCertificateEntries) == 0 {
		b.WriteString("No Revoked Certificates.\n")
		return
	}
	b.WriteString("Revoked Certificates:\n")
	for _, r := range l.RevokedCertificateEntries {
		fmt.Fprintf(b, "    Serial Number: %s\n        Revocation Date: %s\n", asn1Integer(r.SerialNumber), r.RevocationTime.UTC().Format(asn1Time))
	}
}

// asn1Integer is OpenSSL's i2a_ASN1_INTEGER: the bytes in upper-case hex.
func asn1Integer(n *big.Int) string {
	if n.Sign() == 0 {
		return "00"
	}
	s := fmt.Sprintf("%X", new(big.Int).Abs(n).Bytes())
	if n.Sign() < 0 {
		return "-" + s
	}
	return s
}

// crlVersion is the list's version as "openssl crl" shows it (1 or 2):
// the optional version field of the signed part, v1 when absent.
func crlVersion(l *x509.RevocationList) int {
	var tbs asn1.RawValue
	if _, err := asn1.Unmarshal(l.RawTBSRevocationList, &tbs); err != nil {
		return 1
	}
	var first asn1.RawValue
	if _, err := asn1.Unmarshal(tbs.Bytes, &first); err != nil || first.Tag != asn1.TagInteger || first.Class != asn1.ClassUniversal {
		return 1
	}
	var v int
	if _, err := asn1.Unmarshal(first.FullBytes, &v); err != nil {
		return 1
	}
	return v + 1
}

// sigAlgName is OpenSSL's long name of a signature algorithm.
func sigAlgName(a x509.SignatureAlgorithm) string {
	switch a {
	case x509.ECDSAWithSHA1:
		return "ecdsa-with-SHA1"
	case x509.ECDSAWithSHA256:
		return "ecdsa-with-SHA256"
	case x509.ECDSAWithSHA384:
		return "ecdsa-with-SHA384"
	case x509.ECDSAWithSHA512:
		return "ecdsa-with-SHA512"
	case x509.SHA1WithRSA:
		return "sha1WithRSAEncryption"
	case x509.SHA256WithRSA:
		return "sha256WithRSAEncryption"
	case x509.SHA384WithRSA:
		return "sha384WithRSAEncryption"
	case x509.SHA512WithRSA:
		return "sha512WithRSAEncryption"
	case x509.MD5WithRSA:
		return "md5WithRSAEncryption"
	case x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS:
		return "rsassaPss"
	case x509.PureEd25519:
		return "ED25519"
	}
	return "UNDEF"
}

func setCAFile(s *session, args []string, kind proxy.CAKind, word string) string {
	path := argAt(args, 3)
	if path == "" || s.payload == "" {
		what := "CAs"
		if kind == proxy.KindCRL {
			what = "CRLs"
		}
		return "'set ssl " + word + " expects a filename and " + what + " as a payload\n"
	}
	created, err := s.certs().SetCAFile(path, kind, []byte(s.payload))
	if err != nil {
		return err.Error() + "\nCan't update " + path + "!\n"
	}
	short := "CA"
	if kind == proxy.KindCRL {
		short = "CRL"
	}
	if created {
		return "transaction created for " + short + " " + path + "!\n"
	}
	return "transaction updated for " + short + " " + path + "!\n"
}

func commitCAFile(s *session, args []string, kind proxy.CAKind) string {
	path := argAt(args, 3)
	if path == "" {
		return "'commit ssl ca-file expects a filename\n" // HAProxy's text for both kinds
	}
	n, err := s.certs().CommitCAFile(path, kind)
	if err != nil {
		var ce *proxy.CertError
		if errors.As(err, &ce) {
			return err.Error() + "\nCan't commit " + path + "!\n"
		}
		return "Committing " + path + "\n" + err.Error() + "\nFailed!\n"
	}
	return "Committing " + path + strings.Repeat(".", n) + "\nSuccess!\n"
}

func abortCAFile(s *session, args []string, kind proxy.CAKind, word string) string {
	path := argAt(args, 3)
	if path == "" {
		return "'abort ssl " + word + "' expects a filename\n"
	}
	if err := s.certs().AbortCAFile(path, kind); err != nil {
		return err.Error() + "\n"
	}
	return "Transaction aborted for certificate '" + path + "'!\n"
}

func newCAFile(s *session, args []string, kind proxy.CAKind, word string) string {
	path := argAt(args, 3)
	if path == "" {
		return "'new ssl " + word + "' expects a filename\n"
	}
	if err := s.certs().NewCAFile(path, kind); err != nil {
		return err.Error() + "\n"
	}
	what := "CA"
	if kind == proxy.KindCRL {
		what = "CRL"
	}
	return "New " + what + " file created '" + path + "'!\n"
}

func delCAFile(s *session, args []string, kind proxy.CAKind, word string) string {
	what := "CA"
	if kind == proxy.KindCRL {
		what = "CRL"
	}
	path := argAt(args, 3)
	if path == "" {
		return "'del ssl " + word + "' expects a " + what + " file name\n"
	}
	if err := s.certs().DelCAFile(path, kind); err != nil {
		return "Can't remove the " + what + " file: " + err.Error() + "\n\n"
	}
	return what + " file '" + path + "' deleted!\n"
}
