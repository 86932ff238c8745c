package proxy

// The unique id of a session (unique-id-format). As HAProxy 2.6 in TCP
// mode, it is made on demand, once: by the unique-id fetch, by a server's
// PROXY v2 header with proxy-v2-options unique-id, and at the latest when
// the session is logged. It reads the session as it is at that moment.

// uniqueIDMax is HAProxy's UNIQUEID_LEN less its final NUL: the longest
// id it builds.
const uniqueIDMax = 127

// uniqueID returns the session's unique id, generating it the first time;
// nil when the frontend has no unique-id-format.
func (s *session) uniqueID() []byte {
	lf := s.fe.Config.UniqueIDFormat
	if lf == nil {
		return nil
	}
	lx := s.logState()
	if s.has(fUID) {
		return lx.uid
	}
	// Marked first: a format that uses %[unique-id] or %ID sees the id
	// still empty (HAProxy would recurse).
	s.flags |= fUID
	var r SessionRecord
	s.record(&r)
	var ci connInfo
	x := s.logFields(&r, &ci, lf.Nodes, nil)
	id := AppendLogFormat(make([]byte, 0, 64), lf.Nodes, &r, &x)
	if len(id) > uniqueIDMax {
		id = id[:uniqueIDMax]
	}
	lx.uid = id
	return id
}

// fetchUniqueID is the unique-id fetch: the session's unique id, none
// without unique-id-format.
func fetchUniqueID(_ *fetchArgs, c *connInfo) (sample, bool) {
	if c.s == nil {
		return sample{}, false
	}
	id := c.s.uniqueID()
	if id == nil {
		return sample{}, false
	}
	return sample{typ: smpStr, b: id}, true
}
