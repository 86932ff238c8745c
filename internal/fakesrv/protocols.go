package fakesrv

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// Plain accepts connect-only checks (and traffic).
func Plain() Proto { return Proto{} }

// HTTP answers each request with the status that status returns for its
// method and path (a Patroni REST API, Vault's /v1/sys/health, a
// Kubernetes /healthz, Galera's clustercheck), closing after it.
func HTTP(status func(method, path string) int) Proto {
	return Proto{Serve: func(c net.Conn, rd *bufio.Reader) {
		line, err := rd.ReadString('\n')
		if err != nil {
			return
		}
		for {
			h, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			if h == "\r\n" || h == "\n" {
				break
			}
		}
		method, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		path, _, _ := strings.Cut(rest, " ")
		code := status(method, path)
		_, _ = fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", code, http.StatusText(code))
	}}
}

// HTTPRaw answers each HTTP request, once its head is read, with resp as
// it is (any status line, headers, garbage) after delay, then closes.
func HTTPRaw(delay time.Duration, resp string) Proto {
	return Proto{Serve: func(c net.Conn, rd *bufio.Reader) {
		if !readHead(rd) {
			return
		}
		time.Sleep(delay)
		_, _ = io.WriteString(c, resp)
	}}
}

// readHead reads an HTTP request line and headers up to the blank line.
func readHead(rd *bufio.Reader) bool {
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return false
		}
		if line == "\r\n" || line == "\n" {
			return true
		}
	}
}

// Status answers every HTTP request with code.
func Status(code int) Proto { return HTTP(func(string, string) int { return code }) }

// ByPath answers the paths of codes with their status, others with 404.
func ByPath(codes map[string]int) Proto {
	return HTTP(func(_, path string) int {
		if c, ok := codes[path]; ok {
			return c
		}
		return http.StatusNotFound
	})
}

// OverTLS is p served inside TLS with cert (the check-ssl and
// "http-check connect ssl" checks).
func OverTLS(p Proto, cert *tls.Certificate) Proto {
	p.TLS = cert
	return p
}

// Redis answers PING, "info replication" (role:master or role:slave) and
// QUIT as a Redis server does.
func Redis(master bool) Proto {
	role := "slave"
	if master {
		role = "master"
	}
	return Proto{Serve: func(c net.Conn, rd *bufio.Reader) {
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			switch strings.ToLower(strings.TrimSpace(line)) {
			case "ping":
				_, err = io.WriteString(c, "+PONG\r\n")
			case "info replication":
				body := "# Replication\r\nrole:" + role + "\r\nconnected_slaves:0\r\n"
				_, err = fmt.Fprintf(c, "$%d\r\n%s\r\n", len(body), body)
			case "quit":
				_, _ = io.WriteString(c, "+OK\r\n")
				return
			default:
				_, err = io.WriteString(c, "-ERR unknown command\r\n")
			}
			if err != nil {
				return
			}
		}
	}}
}

// MySQLPacket frames body as a MySQL packet with sequence number seq.
func MySQLPacket(seq byte, body []byte) []byte {
	return append([]byte{byte(len(body)), byte(len(body) >> 8), byte(len(body) >> 16), seq}, body...)
}

// MySQL handshake packets: a server greeting, and the error a server
// sends instead when it refuses the client ("Access denied").
var (
	MySQLGreeting = MySQLPacket(0, append([]byte{0x0a}, "5.7.99-fake\x00\x01\x00\x00\x00abcdefgh\x00"...))
	MySQLDenied   = MySQLPacket(0, append([]byte{0xff, 0x15, 0x04}, "#28000Access denied for user"...))
	mysqlOK       = MySQLPacket(2, []byte{0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00})
)

// MySQL greets as a MySQL server and accepts the check's login
// (option mysql-check user ...), or refuses every client.
func MySQL(ok bool) Proto {
	if !ok {
		return Proto{Banner: MySQLDenied}
	}
	return Proto{Banner: MySQLGreeting, Serve: func(c net.Conn, rd *bufio.Reader) {
		hdr, err := rd.Peek(4)
		if err != nil {
			return
		}
		n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
		if _, err := rd.Discard(4 + n); err != nil {
			return
		}
		if _, err := c.Write(mysqlOK); err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, rd)
	}}
}

// LDAPBindResponse is an LDAPv3 bind response with result code.
func LDAPBindResponse(code byte) []byte {
	return []byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, code, 0x04, 0x00, 0x04, 0x00}
}

// LDAP answers the anonymous bind of option ldap-check with success, or
// with "inappropriate authentication" (48).
func LDAP(ok bool) Proto {
	code := byte(0)
	if !ok {
		code = 0x30
	}
	return Proto{Serve: func(c net.Conn, rd *bufio.Reader) {
		if _, err := io.ReadFull(rd, make([]byte, 14)); err != nil {
			return
		}
		_, _ = c.Write(LDAPBindResponse(code))
		_, _ = io.Copy(io.Discard, rd)
	}}
}

// SMTP greets as a mail server and answers EHLO/HELO and QUIT, or greets
// with "421" (too busy) when it is not ok.
func SMTP(ok bool) Proto {
	if !ok {
		return Proto{Banner: []byte("421 4.3.2 too busy, try later\r\n")}
	}
	return Proto{Banner: []byte("220 mx.example.org ESMTP\r\n"), Serve: func(c net.Conn, rd *bufio.Reader) {
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			verb, _, _ := strings.Cut(strings.ToUpper(strings.TrimSpace(line)), " ")
			switch verb {
			case "EHLO", "HELO":
				_, err = io.WriteString(c, "250-mx.example.org\r\n250 PIPELINING\r\n")
			case "QUIT":
				_, _ = io.WriteString(c, "221 2.0.0 Bye\r\n")
				return
			default:
				_, err = io.WriteString(c, "502 5.5.2 command not recognized\r\n")
			}
			if err != nil {
				return
			}
		}
	}}
}

// ZooKeeper answers the "ruok" four-letter word with "imok" and closes,
// or closes without an answer (4lw commands not whitelisted) when it is
// not ok.
func ZooKeeper(ok bool) Proto {
	return Proto{Serve: func(c net.Conn, rd *bufio.Reader) {
		word := make([]byte, 4)
		if _, err := io.ReadFull(rd, word); err != nil || !ok || string(word) != "ruok" {
			return
		}
		_, _ = io.WriteString(c, "imok")
	}}
}
