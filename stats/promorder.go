package stats

import (
	"cmp"
	"slices"
)

// familyRank orders the metric families as HAProxy's promex prints them:
// by their first place in promMetrics; the families HAProxy does not have
// (goproxy_*) come after, by name.
var familyRank = func() map[string]int {
	r := make(map[string]int, len(promMetrics))
	for i, m := range promMetrics {
		if _, ok := r[m.name]; !ok {
			r[m.name] = i
		}
	}
	return r
}()

func rankOf(name string) int {
	if i, ok := familyRank[name]; ok {
		return i
	}
	return len(promMetrics)
}

// inPromexOrder wraps a gather function (a Registry's Gather, which sorts
// the families by name) so that it returns them in HAProxy's order. It is
// generic only to name neither the client library's family type nor its
// package: G is prometheus.GathererFunc.
func inPromexOrder[G ~func() (S, error), S ~[]F, F interface{ GetName() string }](gather func() (S, error)) G {
	return func() (S, error) {
		families, err := gather()
		slices.SortStableFunc(families, func(a, b F) int {
			return cmp.Compare(rankOf(a.GetName()), rankOf(b.GetName()))
		})
		return families, err
	}
}
