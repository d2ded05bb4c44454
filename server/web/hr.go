package web

import (
	"github.com/gofiber/fiber/v2"

	"conductportal/server/model"
)

// requireHR lets only hr and admin into the HR area; anyone else gets the
// 403 page.
func (h *handler) requireHR(c *fiber.Ctx) error {
	if u, _ := currentSession(c); u == nil || !isHR(u) {
		return fiber.ErrForbidden
	}
	return c.Next()
}

// isHR reports whether u may use the HR area.
func isHR(u *model.User) bool { return u.HasRole(model.RoleHR) || u.HasRole(model.RoleAdmin) }

// actor is the login the audit log names for this request.
func actor(c *fiber.Ctx) string {
	if u, _ := currentSession(c); u != nil {
		return u.Login
	}
	return "anonymous"
}

// hrHome sends HR to the lessons they keep.
func (h *handler) hrHome(c *fiber.Ctx) error {
	return c.Redirect("/hr/lessons", fiber.StatusSeeOther)
}
