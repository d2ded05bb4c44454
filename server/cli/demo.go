package cli

import (
	"context"
	"io"
)

func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "demo\n\nFills an EMPTY data folder (PORTAL_DATA) with a sample company: departments, HR,\n"+
		"managers and about 60 employees in every state, with real attempts and signed receipts.\n"+
		"Prints the logins and the one password they share. Then run 'portal serve'.", stdout, stderr)
	if err := fs.parse(args); err != nil {
		return err
	}
	return fs.noArgs()
}
