package web

import (
	"crypto/subtle"
	"net/netip"
	"strings"
	"time"

	"conductportal/server/metrics"

	"github.com/gofiber/fiber/v2"
)

// countRequest records each request in the metrics by the route pattern
// Fiber matched, never the raw path: paths hold logins and ids, and would
// make the labels unbounded.
func (h *handler) countRequest(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		status = errStatus(err)
	}
	h.Metrics.Request(routeOf(c), c.Method(), status, time.Since(start))
	return err
}

// routeOf is the pattern of the route that answered c ("/people/:login"),
// or "unmatched" when only middleware did (a 404, a redirect to log in).
// Logs and metrics name it instead of the path, which holds logins.
func routeOf(c *fiber.Ctx) string {
	if r := c.Route(); r != nil && r.Method != "USE" {
		return r.Path
	}
	return "unmatched"
}

// metricsShow answers the Prometheus metrics to a loopback peer that is no
// proxy's (a reverse proxy on the same host makes every peer loopback, so a
// request with X-Forwarded-For counts as from afar), or to anyone with
// Authorization: Bearer $PORTAL_METRICS_TOKEN.
func (h *handler) metricsShow(c *fiber.Ctx) error {
	if !h.metricsAllowed(c) {
		return fiber.ErrForbidden
	}
	body, err := h.Metrics.Write()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, metrics.ContentType)
	c.Response().SetBody(body)
	return nil
}

func (h *handler) metricsAllowed(c *fiber.Ctx) bool {
	if tok := h.Config.MetricsToken; tok != "" {
		got, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(got), []byte(tok)) == 1 {
			return true
		}
	}
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	forwarded := c.Get(fiber.HeaderXForwardedFor) != "" || c.Get("Forwarded") != "" || c.Get("X-Real-Ip") != ""
	return peer.Unmap().IsLoopback() && !forwarded
}
