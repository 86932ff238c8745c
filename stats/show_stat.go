package stats

import (
	"bytes"

	"goproxy/internal/hatext"
	"goproxy/internal/srvstate"
)

// atoi converts like C's atoi (hatext.Atoi).
func atoi(s string) int { return hatext.Atoi(s) }

type statFormat int

const (
	fmtCSV statFormat = iota
	fmtTyped
	fmtJSON
)

// statOptions are the arguments of show stat.
type statOptions struct {
	bound    bool
	iid      int
	typeMask int
	sid      int
	format   statFormat
	desc     bool
	hideDown bool
	hideMnt  bool
}

func cmdShowStat(s *session, args []string) string {
	a := args[2:]
	if len(a) > 0 && a[0] == "domain" {
		if len(a) < 2 || (a[1] != "proxy") {
			return "Invalid statistics domain.\n"
		}
		a = a[2:]
	}
	rows := s.srv.src.Stats()
	var o statOptions
	if len(a) >= 3 {
		o.bound = true
		o.iid = 0
		for _, r := range rows {
			if r.Proxy == a[0] {
				o.iid = r.IID
				break
			}
		}
		if o.iid == 0 {
			o.iid = atoi(a[0])
		}
		if o.iid == 0 {
			return "No such proxy.\n"
		}
		o.typeMask = atoi(a[1])
		o.sid = atoi(a[2])
		a = a[3:]
	}
	for _, w := range a {
		switch w {
		case "typed":
			o.format = fmtTyped
		case "json":
			o.format = fmtJSON
		case "desc":
			o.desc = true
		case "up":
			o.hideDown = true
		case "no-maint":
			o.hideMnt = true
		}
	}
	var b bytes.Buffer
	renderStat(&b, rows, &o, s.sockLevel >= LevelOperator)
	return b.String()
}

// selected tells whether row r passes the filters of o.
func (o *statOptions) selected(r *Row) bool {
	if o.bound {
		if o.iid != -1 && r.IID != o.iid {
			return false
		}
		if o.typeMask&(1<<uint(r.Type)) == 0 {
			return false
		}
		if (r.Type == TypeServer || r.Type == TypeListener) && o.sid != -1 && r.SID != o.sid {
			return false
		}
	}
	if r.Type == TypeServer {
		sv := &r.Server
		if o.hideMnt && sv.Admin&srvstate.AdminMaint != 0 {
			return false
		}
		if o.hideDown && (sv.Admin&srvstate.AdminMaint != 0 ||
			(sv.Op == srvstate.OpStopped && (!(sv.Check.Enabled || sv.Agent.Enabled) ||
				(sv.Agent.Enabled && sv.Agent.Health == 0) ||
				(sv.Check.Enabled && sv.Check.Health == 0)))) {
			return false
		}
	}
	return true
}

// renderStat writes the show stat answer for rows.
func renderStat(b *bytes.Buffer, rows []Row, o *statOptions, legends bool) {
	aggs := aggregate(rows)
	ctx := rowCtx{showLegends: legends, hideFlags: o.hideDown || o.hideMnt}
	switch o.format {
	case fmtCSV:
		b.WriteString(csvHeader)
	case fmtJSON:
		b.WriteByte('[')
	}
	first := true
	for i := range rows {
		r := &rows[i]
		if !o.selected(r) {
			continue
		}
		ctx.be = aggs[r.IID]
		if ctx.be == nil {
			ctx.be = &beAgg{}
		}
		switch o.format {
		case fmtCSV:
			writeCSVRow(b, r, &ctx)
		case fmtTyped:
			writeTypedRow(b, r, &ctx, o.desc)
		case fmtJSON:
			if !first {
				b.WriteByte(',')
			}
			writeJSONRow(b, r, &ctx)
		}
		first = false
	}
	if o.format == fmtJSON {
		b.WriteString("]\n")
	}
}
