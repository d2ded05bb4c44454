package web

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// healthz says the process is up.
func (h *handler) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz says the database answers.
func (h *handler) readyz(c *fiber.Ctx) error {
	cx, cancel := context.WithTimeout(ctx(c), 2*time.Second)
	defer cancel()
	if err := h.DB.Ping(cx); err != nil {
		h.Log.WarnContext(ctx(c), "not ready", "err", err)
		h.outage.confirmed(err)
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "database": "unreachable"})
	}
	return c.JSON(fiber.Map{"status": "ok", "database": "ok"})
}
