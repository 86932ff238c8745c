package stats

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
)

// BuildInfo names the goproxy binary that serves: haproxy_process_build_info
// and show info keep HAProxy's version (exporters and dashboards compare
// it), goproxy_build_info says who is really serving.
type BuildInfo struct {
	Version  string // goproxy's version (-v)
	Revision string // VCS revision it was built from, "-dirty" when modified; may be empty
}

var buildInfoDesc = prometheus.NewDesc("goproxy_build_info",
	"goproxy's version, the Go version it was built with and its VCS revision; always 1.",
	[]string{"version", "goversion", "revision"}, nil)

// buildInfoCollector exports goproxy_build_info.
type buildInfoCollector struct{ b BuildInfo }

// Describe sends the one descriptor.
func (c buildInfoCollector) Describe(ch chan<- *prometheus.Desc) { ch <- buildInfoDesc }

// Collect sends the gauge, 1.
func (c buildInfoCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(buildInfoDesc, prometheus.GaugeValue, 1,
		c.b.Version, runtime.Version(), c.b.Revision)
}
