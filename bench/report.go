package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// metric is one row of the result table.
type metric struct {
	key         string
	label       string
	lowerBetter bool
}

// results holds, per proxy and metric key, one value per repetition.
type results map[string]map[string][]float64

func (r results) add(proxy, key string, v float64) {
	if r[proxy] == nil {
		r[proxy] = make(map[string][]float64)
	}
	r[proxy][key] = append(r[proxy][key], v)
}

// median returns the median of vs and whether there was any value.
func median(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// formatValue prints v with three significant digits (no exponent for the
// magnitudes a benchmark shows).
func formatValue(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "n/a"
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	case a >= 0.01:
		return fmt.Sprintf("%.3f", v)
	default:
		return fmt.Sprintf("%.2g", v)
	}
}

// formatRatio prints a/b as "0.97x", or "n/a" when b is zero or a value is
// missing.
func formatRatio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// writeTable prints one row per metric that has a value for some proxy:
// the median of each proxy, and the first proxy's value over the second's.
func writeTable(w io.Writer, proxies []string, rows []metric, res results) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"metric"}
	head = append(head, proxies...)
	if len(proxies) == 2 {
		head = append(head, proxies[0]+"/"+proxies[1], "better")
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, m := range rows {
		cells := []string{m.label}
		var vals []float64
		any := false
		for _, p := range proxies {
			v, ok := median(res[p][m.key])
			if !ok {
				cells = append(cells, "-")
				vals = append(vals, math.NaN())
				continue
			}
			any = true
			cells = append(cells, formatValue(v))
			vals = append(vals, v)
		}
		if !any {
			continue
		}
		if len(proxies) == 2 {
			better := "higher"
			if m.lowerBetter {
				better = "lower"
			}
			cells = append(cells, formatRatio(vals[0], vals[1]), better)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	return tw.Flush()
}

// busyColumns are the per-run load figures, by metric key suffix.
var busyColumns = []struct{ suffix, head string }{
	{"cpupct", "proxy CPU"},
	{"waitpct", "proxy waiting"},
	{"selfpct", "harness CPU"},
	{"selfwaitpct", "harness waiting"},
}

// writeBusyTable prints, per workload and proxy, how busy the proxy and the
// harness were and how long they waited for a CPU.
func writeBusyTable(w io.Writer, proxies, workloads []string, res results) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"run"}
	for _, c := range busyColumns {
		head = append(head, c.head)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, wl := range workloads {
		for _, p := range proxies {
			cells := []string{wl + " " + p}
			for _, c := range busyColumns {
				v, ok := median(res[p][wl+"."+c.suffix])
				if !ok {
					cells = append(cells, "-")
					continue
				}
				cells = append(cells, fmt.Sprintf("%.0f%%", v))
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
		}
	}
	return tw.Flush()
}
