package web_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestMain closes the package's Chromium after the last test.
func TestMain(m *testing.M) {
	code := m.Run()
	chromium.close()
	os.Exit(code)
}

// chromium is the one Chromium process the browser tests of this package
// share: starting it took a second or more of a loaded 2-core machine per
// test, and each test still gets a fresh browser context (no cookie,
// storage or cache of another test), as a new incognito window.
var chromium sharedChromium

type sharedChromium struct {
	mu     sync.Mutex
	ctx    context.Context // the browser's first tab; nil until started
	cancel func()
}

// get returns the browser's context, starting Chromium on first use and
// again if it has exited (a crash fails the test it happened in, not
// every later one).
func (c *sharedChromium) get() (context.Context, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx != nil && c.ctx.Err() == nil {
		return c.ctx, nil
	}
	c.stop()
	profile, err := os.MkdirTemp("", "portal-chromium-")
	if err != nil {
		return nil, fmt.Errorf("web test: chromium profile: %w", err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	c.cancel = func() {
		cancelBrowser()
		cancelAlloc()
		_ = os.RemoveAll(profile)
	}
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		c.stop()
		return nil, err
	}
	c.ctx = ctx
	return ctx, nil
}

func (c *sharedChromium) stop() {
	if c.cancel != nil {
		c.cancel()
	}
	c.ctx, c.cancel = nil, nil
}

func (c *sharedChromium) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stop()
}
