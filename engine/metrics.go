package engine

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/herald-social/herald/actors"
)

// engineMetrics are the node's Prometheus metrics, in a registry of the
// engine's own (no global state: two engines in one test process do not
// share counters).
type engineMetrics struct {
	registry *prometheus.Registry
	reloads  *prometheus.CounterVec
}

func newEngineMetrics() *engineMetrics {
	m := &engineMetrics{registry: prometheus.NewRegistry()}
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_config_reloads_total", Help: "Configuration loads, by result (ok or error).",
	}, []string{"result"})
	m.registry.MustRegister(m.reloads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// instrument gives the actors what they report metrics through.
func (e *Engine) instrument(o *actors.Options) {}

// observeReload counts one configuration load.
func (e *Engine) observeReload(r ReloadResult) {
	e.metrics.reloads.WithLabelValues(r.Result).Inc()
}

// metricsHandler serves /metrics in the Prometheus text format.
func (e *Engine) metricsHandler() http.Handler {
	return promhttp.HandlerFor(e.metrics.registry, promhttp.HandlerOpts{Registry: e.metrics.registry})
}
