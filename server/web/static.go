package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"os"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// staticFile is one file of static/, with its content-hashed name.
type staticFile struct {
	body        []byte
	contentType string
	etag        string
}

// staticFiles serves static/ under names that carry a hash of the content
// (app.3f2a9c1b.css), so they can be cached forever and change on deploy.
type staticFiles struct {
	byHashed map[string]*staticFile
	urls     map[string]string // plain name -> URL
	logo     string            // URL of the company's logo, if any
}

func loadStatic(assets fs.FS, logoFile string) (*staticFiles, error) {
	st := &staticFiles{byHashed: map[string]*staticFile{}, urls: map[string]string{}}
	err := fs.WalkDir(assets, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(assets, p)
		if err != nil {
			return err
		}
		st.add(strings.TrimPrefix(p, "static/"), body)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	// The company's logo, if configured, is served like the others.
	if logoFile != "" {
		body, err := os.ReadFile(logoFile) // #nosec G304 -- the operator's configured logo
		if err != nil {
			return nil, fmt.Errorf("web: logo: %w", err)
		}
		st.add("logo"+strings.ToLower(path.Ext(logoFile)), body)
		st.logo = st.urls["logo"+strings.ToLower(path.Ext(logoFile))]
	}
	return st, nil
}

// add serves body under name, content-hashed like the embedded files.
func (s *staticFiles) add(name string, body []byte) {
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])[:10]
	ext := path.Ext(name)
	hashed := strings.TrimSuffix(name, ext) + "." + h + ext
	ct := mime.TypeByExtension(ext)
	if ct == "" {
		ct = "application/octet-stream"
	}
	s.byHashed[hashed] = &staticFile{body: body, contentType: ct, etag: `"` + h + `"`}
	s.urls[name] = "/static/" + hashed
}

// URL returns the hashed URL of a static file; templates call it.
func (s *staticFiles) URL(name string) string {
	if u, ok := s.urls[name]; ok {
		return u
	}
	return "/static/missing-" + name
}

func (h *handler) staticFile(c *fiber.Ctx) error {
	f := h.static.byHashed[c.Params("name")]
	if f == nil {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set(fiber.HeaderETag, f.etag)
	if c.Get(fiber.HeaderIfNoneMatch) == f.etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, f.contentType)
	return c.Send(f.body)
}

func (h *handler) favicon(c *fiber.Ctx) error {
	return c.Redirect(h.static.URL("favicon.svg"), fiber.StatusMovedPermanently)
}

func randomString() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Errorf("web: crypto/rand failed: %w", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
