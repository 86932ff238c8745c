package cmpp

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"
)

// Body sizes of the fixed-size PDUs.
const (
	connectBodyLen       = 6 + 16 + 1 + 4 // Source_Addr, AuthenticatorSource, Version, Timestamp
	connectResp20BodyLen = 1 + 16 + 1     // Status, AuthenticatorISMG, Version
	connectResp30BodyLen = 4 + 16 + 1
	submitResp20BodyLen  = 8 + 1 // Msg_Id, Result
	submitResp30BodyLen  = 8 + 4
	activeTestRespBody   = 1 // Reserved
)

// CONNECT_RESP Status values.
const (
	StatusOK          = 0
	StatusBadStruct   = 1
	StatusBadSource   = 2
	StatusAuthFailed  = 3
	StatusVersionHigh = 4
)

// Connect is the body of CMPP_CONNECT.
type Connect struct {
	SourceAddr    string   // SP id, 6 bytes on the wire
	Authenticator [16]byte // MD5(Source_Addr + 9 zero bytes + secret + "MMDDHHMMSS")
	Version       byte
	Timestamp     uint32 // MMDDHHMMSS as a decimal number
}

// NewConnect builds a CONNECT body for the account and secret at time now.
func NewConnect(sourceAddr, secret string, version byte, now time.Time) Connect {
	ts := now.Format("0102150405")
	n, _ := strconv.ParseUint(ts, 10, 32) // ten digits, at most 1231235959
	return Connect{
		SourceAddr:    sourceAddr,
		Authenticator: Authenticator(sourceAddr, secret, ts),
		Version:       version,
		Timestamp:     uint32(n),
	}
}

// Authenticator computes AuthenticatorSource for an account, its secret and a
// ten-digit timestamp string.
func Authenticator(sourceAddr, secret, ts string) [16]byte {
	var b []byte
	b = append(b, sourceAddr...)
	b = append(b, make([]byte, 9)...)
	b = append(b, secret...)
	b = append(b, ts...)
	return md5.Sum(b)
}

// Marshal encodes the body.
func (c Connect) Marshal() []byte {
	b := make([]byte, 0, connectBodyLen)
	b = appendFixed(b, c.SourceAddr, 6)
	b = append(b, c.Authenticator[:]...)
	b = append(b, c.Version)
	return binary.BigEndian.AppendUint32(b, c.Timestamp)
}

// ParseConnect decodes a CONNECT body.
func ParseConnect(b []byte) (Connect, error) {
	if len(b) != connectBodyLen {
		return Connect{}, fmt.Errorf("cmpp: connect body is %d bytes, want %d", len(b), connectBodyLen)
	}
	var c Connect
	c.SourceAddr = trimZero(b[0:6])
	copy(c.Authenticator[:], b[6:22])
	c.Version = b[22]
	c.Timestamp = binary.BigEndian.Uint32(b[23:27])
	return c, nil
}

// Verify reports whether the authenticator matches secret.
func (c Connect) Verify(secret string) bool {
	return Authenticator(c.SourceAddr, secret, fmt.Sprintf("%010d", c.Timestamp)) == c.Authenticator
}

// ConnectResp is the body of CMPP_CONNECT_RESP. The simulator puts its name
// where a real gateway puts AuthenticatorISMG.
type ConnectResp struct {
	Status  uint32
	Gateway string // AuthenticatorISMG, zero bytes trimmed
	Version byte
}

// Marshal encodes the body in the layout of version (1-byte Status before
// CMPP 3.0, 4 bytes from 3.0 on).
func (r ConnectResp) Marshal(version byte) []byte {
	var b []byte
	if version >= Version30 {
		b = binary.BigEndian.AppendUint32(b, r.Status)
	} else {
		b = append(b, byte(r.Status))
	}
	b = appendFixed(b, r.Gateway, 16)
	return append(b, r.Version)
}

// ParseConnectResp decodes a CONNECT_RESP body of either layout.
func ParseConnectResp(b []byte) (ConnectResp, error) {
	var r ConnectResp
	switch len(b) {
	case connectResp30BodyLen:
		r.Status = binary.BigEndian.Uint32(b[0:4])
		b = b[4:]
	case connectResp20BodyLen:
		r.Status = uint32(b[0])
		b = b[1:]
	default:
		return r, fmt.Errorf("cmpp: connect_resp body is %d bytes", len(b))
	}
	r.Gateway = trimZero(b[:16])
	r.Version = b[16]
	return r, nil
}

// SubmitResp is the body of CMPP_SUBMIT_RESP.
type SubmitResp struct {
	MsgID  [8]byte // the simulator's name, zero-padded, cut at 8 bytes
	Result uint32
}

// Gateway returns the gateway name carried in MsgID.
func (r SubmitResp) Gateway() string { return trimZero(r.MsgID[:]) }

// Marshal encodes the body in the layout of version.
func (r SubmitResp) Marshal(version byte) []byte {
	b := append([]byte(nil), r.MsgID[:]...)
	if version >= Version30 {
		return binary.BigEndian.AppendUint32(b, r.Result)
	}
	return append(b, byte(r.Result))
}

// ParseSubmitResp decodes a SUBMIT_RESP body of either layout.
func ParseSubmitResp(b []byte) (SubmitResp, error) {
	var r SubmitResp
	switch len(b) {
	case submitResp30BodyLen:
		r.Result = binary.BigEndian.Uint32(b[8:12])
	case submitResp20BodyLen:
		r.Result = uint32(b[8])
	default:
		return r, fmt.Errorf("cmpp: submit_resp body is %d bytes", len(b))
	}
	copy(r.MsgID[:], b[:8])
	return r, nil
}

// Submit holds the fields of a CMPP 3.0 SUBMIT that the client sets; the
// others are encoded with neutral values.
type Submit struct {
	ServiceID string // 10 bytes
	SrcID     string // 21 bytes
	DestID    string // one destination, 32 bytes
	Content   []byte // at most 255 bytes (Msg_Length is one byte)
}

// Marshal encodes a CMPP 3.0 SUBMIT body for one destination.
func (s Submit) Marshal() []byte {
	content := s.Content
	if len(content) > 255 {
		content = content[:255]
	}
	b := make([]byte, 8, 200+len(content)) // Msg_Id, filled by the gateway
	b = append(b, 1, 1, 1, 0)              // Pk_total, Pk_number, Registered_Delivery, Msg_level
	b = appendFixed(b, s.ServiceID, 10)
	b = append(b, 0)            // Fee_UserType
	b = appendFixed(b, "", 32)  // Fee_terminal_Id
	b = append(b, 0, 0, 0, 15)  // Fee_terminal_type, TP_pId, TP_udhi, Msg_Fmt (GBK)
	b = appendFixed(b, "", 6)   // Msg_src
	b = appendFixed(b, "01", 2) // FeeType
	b = appendFixed(b, "", 6)   // FeeCode
	b = appendFixed(b, "", 17)  // ValId_Time
	b = appendFixed(b, "", 17)  // At_Time
	b = appendFixed(b, s.SrcID, 21)
	b = append(b, 1) // DestUsr_tl
	b = appendFixed(b, s.DestID, 32)
	b = append(b, 0, byte(len(content))) // Dest_terminal_type, Msg_Length
	b = append(b, content...)
	return appendFixed(b, "", 20) // LinkID
}

// appendFixed appends s cut or zero-padded to n bytes.
func appendFixed(b []byte, s string, n int) []byte {
	if len(s) > n {
		s = s[:n]
	}
	b = append(b, s...)
	return append(b, make([]byte, n-len(s))...)
}

// trimZero returns b up to its first zero byte, as a string.
func trimZero(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
