package cli_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"conductportal/server/authoring"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestExportContentRoundTrip: "export content DIR" writes the current
// versions (here with a published edit) as a folder that "import --check"
// accepts and that imports unchanged; the bodies are byte-identical.
func TestExportContentRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := testkit.Start(t, dir, io.Discard)
	ctx := context.Background()
	_, d, _, err := p.Authoring.Draft(ctx, "dress")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		model.LangZH: d.Files[model.LangZH] + "\n工牌应端正佩戴在左胸前。  \n",
		model.LangEN: d.Files[model.LangEN] + "\nWear the badge: straight, on the left.\n",
	}
	if _, probs, err := p.Authoring.SaveFiles(ctx, "hr", "dress", files, ""); err != nil || len(probs) > 0 {
		t.Fatal(probs, err)
	}
	if _, _, err := p.Authoring.Publish(ctx, authoring.PublishRequest{Slug: "dress", Kind: model.ChangeReack, Note: "badge", Actor: "hr"}); err != nil {
		t.Fatal(err)
	}
	v2, err := p.Training.Version(ctx, "dress", 2)
	if err != nil {
		t.Fatal(err)
	}
	p.Stop()

	out := t.TempDir()
	if code, stdout, stderr := runCLI(t, dir, "export", "content", out); code != 0 {
		t.Fatalf("export: %d\n%s\n%s", code, stdout, stderr)
	}
	raw, err := os.ReadFile(filepath.Join(out, "content", "zh-CN", "dress.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(raw), "\n---\n"+v2.Texts[model.LangZH].Markdown) {
		t.Errorf("the exported body is not the stored body byte for byte:\n%s", raw)
	}
	if code, stdout, stderr := runCLI(t, dir, "import", "--check", out); code != 0 {
		t.Fatalf("import --check: %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr := runCLI(t, dir, "import", out)
	if code != 0 {
		t.Fatalf("import: %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "published") || strings.Count(stdout, "unchanged") != 6 {
		t.Errorf("importing the export changed something:\n%s", stdout)
	}
	if code, _, _ := runCLI(t, dir, "export", "content"); code != 2 {
		t.Errorf("export without a folder: exit %d, want 2", code)
	}
}
