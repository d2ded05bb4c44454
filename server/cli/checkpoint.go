package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"conductportal/server/checkpoint"
	"conductportal/server/config"
	"conductportal/server/storage"
)

func checkpointCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("checkpoint", "checkpoint\n\n"+
		"Signs the head of every receipt chain that changed since the last checkpoint with the\n"+
		"Ed25519 key of PORTAL_SIGNING_KEY (or PORTAL_DATA/signing.key, made when missing), and\n"+
		"appends it as one line to PORTAL_DATA/checkpoints.jsonl. Nothing changed: no line. The\n"+
		"portal does this daily by itself. Copy the file and the public key it prints off this\n"+
		"machine: 'portal verify --checkpoints FILE' then proves the receipts were not rewritten.\n"+
		"On the embedded database, run it while the portal is stopped.", stdout, stderr)
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	cfg, err := config.FromEnv(nil)
	if err != nil {
		return err
	}
	key, created, err := checkpoint.Key(cfg.SigningKey, cfg.DataDir, true)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "checkpoint: a signing key was made in %s: keep a copy away from this machine\n",
			filepath.Join(cfg.DataDir, checkpoint.KeyFile))
	}
	return withStore(ctx, stderr, func(store *storage.Storage, _ *slog.Logger) error {
		res, err := checkpoint.Write(ctx, store, cfg.DataDir, key, time.Now())
		if err != nil {
			return err
		}
		if res.Torn > 0 {
			fmt.Fprintf(stdout, "checkpoint: the file ended in a line cut short (%d bytes, a crash while appending): removed\n", res.Torn)
		}
		for _, h := range res.Rewritten {
			fmt.Fprintf(stdout, "checkpoint: the chain of user %s changed without growing (%d receipts now): receipts were edited or deleted; run portal verify --checkpoints\n",
				h.Login, h.Count)
		}
		file := filepath.Join(cfg.DataDir, checkpoint.File)
		if c := res.Checkpoint; c != nil {
			fmt.Fprintf(stdout, "checkpoint: %d signed, %d chain(s) changed, digest %s, appended to %s\n", c.Seq, len(c.Heads), c.Digest, file)
		} else {
			fmt.Fprintf(stdout, "checkpoint: no chain changed since the last checkpoint in %s; nothing written\n", file)
		}
		fmt.Fprintf(stdout, "checkpoint: public key %s\n", checkpoint.PublicKey(key))
		return nil
	})
}

// verifyCheckpoints is verify --checkpoints FILE: the file's signatures
// and chain, then the database against every head it signed.
func verifyCheckpoints(ctx context.Context, store *storage.Storage, file, key string, stdout io.Writer) (int, error) {
	f, err := os.Open(file) // #nosec G304 -- the file the operator named on the command line
	if err != nil {
		return 0, fmt.Errorf("cli: verify: %w", err)
	}
	defer f.Close()
	rep, err := checkpoint.Verify(ctx, store, f, key)
	if err != nil {
		return 0, err
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, p.String())
	}
	for _, k := range rep.Keys {
		fmt.Fprintf(stdout, "verify: checkpoints signed by public key %s\n", k)
	}
	if key == "" && len(rep.Keys) > 0 {
		fmt.Fprintln(stdout, "verify: compare that key with the copy kept away from this machine (or pass it as --public-key)")
	}
	fmt.Fprintf(stdout, "verify --checkpoints: %d checkpoints covering %d receipts of %d users: %d problem(s)\n",
		rep.Checkpoints, rep.Receipts, rep.Users, len(rep.Problems))
	if rep.Checkpoints == 0 {
		fmt.Fprintf(stdout, "verify --checkpoints: %s holds no checkpoint\n", file)
		return 1, nil
	}
	return len(rep.Problems), nil
}
