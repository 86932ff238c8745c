package cmpp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Sizes of the fixed parts of a PDU.
const (
	HeaderLen = 12   // Total_Length, Command_Id, Sequence_Id
	MaxPDULen = 3335 // largest PDU of CMPP 3.0, header included
)

// Protocol versions carried in CONNECT.
const (
	Version20 byte = 0x20
	Version30 byte = 0x30
)

// CommandID is a CMPP Command_Id. A response is its request with RespFlag set.
type CommandID uint32

// Command ids used by the simulator (the others are named by String only).
const (
	CmdConnect    CommandID = 0x00000001
	CmdTerminate  CommandID = 0x00000002
	CmdSubmit     CommandID = 0x00000004
	CmdDeliver    CommandID = 0x00000005
	CmdQuery      CommandID = 0x00000006
	CmdCancel     CommandID = 0x00000007
	CmdActiveTest CommandID = 0x00000008
	CmdFwd        CommandID = 0x00000009

	RespFlag CommandID = 0x80000000
)

var commandNames = map[CommandID]string{
	CmdConnect:    "CONNECT",
	CmdTerminate:  "TERMINATE",
	CmdSubmit:     "SUBMIT",
	CmdDeliver:    "DELIVER",
	CmdQuery:      "QUERY",
	CmdCancel:     "CANCEL",
	CmdActiveTest: "ACTIVE_TEST",
	CmdFwd:        "FWD",
}

// IsResp reports whether c is a response id.
func (c CommandID) IsResp() bool { return c&RespFlag != 0 }

// Resp returns the response id of request c.
func (c CommandID) Resp() CommandID { return c | RespFlag }

// String returns the CMPP name, e.g. "SUBMIT_RESP", or the id in hex.
func (c CommandID) String() string {
	if n, ok := commandNames[c&^RespFlag]; ok {
		if c.IsResp() {
			return n + "_RESP"
		}
		return n
	}
	return fmt.Sprintf("0x%08X", uint32(c))
}

// Header is the 12-byte header that starts every PDU.
type Header struct {
	TotalLength uint32
	CommandID   CommandID
	SequenceID  uint32
}

// PDU is one decoded protocol data unit.
type PDU struct {
	Header
	Body []byte
}

// Decoding errors.
var (
	ErrShort  = errors.New("cmpp: incomplete pdu")
	ErrLength = errors.New("cmpp: total_length out of range")
)

// ParseHeader decodes a header from the first HeaderLen bytes of b and checks
// that Total_Length lies in [HeaderLen, MaxPDULen].
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, ErrShort
	}
	h := Header{
		TotalLength: binary.BigEndian.Uint32(b[0:4]),
		CommandID:   CommandID(binary.BigEndian.Uint32(b[4:8])),
		SequenceID:  binary.BigEndian.Uint32(b[8:12]),
	}
	if h.TotalLength < HeaderLen || h.TotalLength > MaxPDULen {
		return h, fmt.Errorf("%w: %d", ErrLength, h.TotalLength)
	}
	return h, nil
}

// Decode decodes the first PDU of b and returns it with the number of bytes
// it used. The body aliases b. It returns ErrShort when b holds only part of
// a PDU, and an ErrLength error when the header is invalid.
func Decode(b []byte) (PDU, int, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return PDU{}, 0, err
	}
	n := int(h.TotalLength)
	if len(b) < n {
		return PDU{}, 0, ErrShort
	}
	return PDU{Header: h, Body: b[HeaderLen:n:n]}, n, nil
}

// ReadPDU reads one PDU from r. The body is freshly allocated. An invalid
// header is an error; the stream cannot be resynchronised after it.
func ReadPDU(r io.Reader) (PDU, error) {
	var hb [HeaderLen]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return PDU{}, err
	}
	h, err := ParseHeader(hb[:])
	if err != nil {
		return PDU{}, err
	}
	body := make([]byte, int(h.TotalLength)-HeaderLen)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return PDU{}, fmt.Errorf("cmpp: reading %s body: %w", h.CommandID, err)
	}
	return PDU{Header: h, Body: body}, nil
}

// AppendPDU appends the encoding of a PDU with the given id, sequence and
// body to dst. The caller keeps len(body) <= MaxPDULen-HeaderLen.
func AppendPDU(dst []byte, cmd CommandID, seq uint32, body []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(HeaderLen+len(body)))
	dst = binary.BigEndian.AppendUint32(dst, uint32(cmd))
	dst = binary.BigEndian.AppendUint32(dst, seq)
	return append(dst, body...)
}

// Encode returns the encoding of p; Total_Length is computed from the body,
// whatever p.TotalLength says.
func (p PDU) Encode() []byte {
	return AppendPDU(make([]byte, 0, HeaderLen+len(p.Body)), p.CommandID, p.SequenceID, p.Body)
}
