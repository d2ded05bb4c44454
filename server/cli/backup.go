package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"conductportal/server/backup"
	"conductportal/server/checkpoint"
	"conductportal/server/config"
	"conductportal/server/database"
	"conductportal/server/secret"
	"conductportal/server/storage"
)

func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backup", "backup FILE\n\n"+
		"Writes every collection to FILE (gzip'd JSON lines of MongoDB extended JSON), with the\n"+
		"key that seals the channel secrets (PORTAL_SECRET_KEY, or PORTAL_DATA/secret.key), so a\n"+
		"restore elsewhere opens them: keep FILE as safe as that key (it is written mode 0600).\n"+
		"The key that signs the receipt checkpoints (PORTAL_SIGNING_KEY, or\n"+
		"PORTAL_DATA/signing.key) comes along only with --with-signing-key: the checkpoints\n"+
		"prove something because that key is kept apart from the database and its backups.\n"+
		"On the embedded database, run it while the portal is stopped.", stdout, stderr)
	withSigning := fs.Bool("with-signing-key", false, "carry the checkpoints' signing key too (the backup then holds it)")
	file, err := fileArg(fs, args)
	if err != nil {
		return err
	}
	cfg, err := config.FromEnv(nil)
	if err != nil {
		return err
	}
	key, err := secretKey(cfg)
	if err != nil {
		return err
	}
	keys := backup.Keys{Secret: key}
	if *withSigning {
		sk, _, err := checkpoint.Key(cfg.SigningKey, cfg.DataDir, false)
		if err != nil {
			return err
		}
		if sk == nil {
			return fmt.Errorf("cli: backup: --with-signing-key: there is no signing key (PORTAL_SIGNING_KEY unset, no %s)", filepath.Join(cfg.DataDir, checkpoint.KeyFile))
		}
		keys.Signing = sk.Seed()
	}
	log := newLogger(cfg, stderr)
	opts, err := dbOptions(cfg, log)
	if err != nil {
		return err
	}
	db, err := database.Open(ctx, opts)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	schema, err := db.Migrate(ctx, log)
	if err != nil {
		return err
	}
	// Written beside the target and renamed at the end: FILE is either the
	// whole backup or untouched.
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return fmt.Errorf("cli: backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	sum, err := backup.Write(ctx, storage.New(db.Database), tmp, schema, keys)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cli: backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("cli: backup: %w", err)
	}
	withKey := "no secret key (the portal has none yet)"
	if key != nil {
		withKey = "the secret key of the channel secrets"
	}
	if keys.Signing != nil {
		withKey += " and the checkpoints' signing key"
	}
	fmt.Fprintf(stdout, "backup: %d documents (%s) and %s written to %s\n", sum.Total(), counts(sum), withKey, file)
	return nil
}

// secretKey is the key that seals channel secrets, as the server finds
// it (see secretBox), without making one: nil when there is none.
func secretKey(cfg *config.Config) ([]byte, error) {
	switch {
	case cfg.SecretKey != "":
		return secret.ParseKey(cfg.SecretKey)
	case cfg.MongoURI == "":
		k, err := secret.ReadKey(cfg.DataDir)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return k, err
	}
	return nil, nil
}

func restoreCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("restore", "restore FILE\n\n"+
		"Reads a backup into an EMPTY database (a new PORTAL_DATA folder, or an empty\n"+
		"MONGODB_URI database) and applies the schema steps. Refuses a database with data.\n"+
		"The backup's secret key comes along: into PORTAL_DATA/secret.key on the embedded\n"+
		"database; with MONGODB_URI it is printed, to set as PORTAL_SECRET_KEY. A different\n"+
		"PORTAL_SECRET_KEY (or secret.key) is refused: the channel secrets would not open.\n"+
		"A backup made with --with-signing-key puts the checkpoints' signing key back the same\n"+
		"way (PORTAL_DATA/signing.key, or printed as PORTAL_SIGNING_KEY); a different one is\n"+
		"refused.", stdout, stderr)
	file, err := fileArg(fs, args)
	if err != nil {
		return err
	}
	cfg, err := config.FromEnv(nil)
	if err != nil {
		return err
	}
	// The whole file is read once before anything is stored: a damaged
	// backup is refused, not half restored.
	f, err := os.Open(file) // #nosec G304 -- the file the operator named on the command line
	if err != nil {
		return fmt.Errorf("cli: restore: %w", err)
	}
	defer f.Close()
	checked, err := backup.Check(f, database.SchemaVersion())
	if err != nil {
		return err
	}
	have, err := secretKey(cfg)
	if err != nil {
		return err
	}
	if checked.SecretKey != nil && have != nil && !bytes.Equal(have, checked.SecretKey) {
		return errors.New("cli: restore: the channel secrets in this backup are sealed with another key than " + keyName(cfg) +
			"; unset PORTAL_SECRET_KEY (or use an empty PORTAL_DATA) to restore with the backup's key. Nothing was restored")
	}
	haveSigning, _, err := checkpoint.Key(cfg.SigningKey, cfg.DataDir, false)
	if err != nil {
		return err
	}
	if checked.SigningKey != nil && haveSigning != nil && !bytes.Equal(haveSigning.Seed(), checked.SigningKey) {
		return errors.New("cli: restore: the backup carries another checkpoint signing key than " + signingKeyName(cfg) +
			"; unset PORTAL_SIGNING_KEY (or use an empty PORTAL_DATA) to restore with the backup's key. Nothing was restored")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("cli: restore: %w", err)
	}
	// The backup's key is put in place before the database opens: opening
	// makes a key when there is none, and the schema steps seal secrets
	// with it, so a later key would not open them.
	wroteKey := false
	if checked.SecretKey != nil && have == nil {
		if cfg.MongoURI == "" {
			if err := secret.WriteKey(cfg.DataDir, checked.SecretKey); err != nil {
				return fmt.Errorf("cli: restore: nothing was restored: %w", err)
			}
			wroteKey = true
		} else {
			cfg.SecretKey = hex.EncodeToString(checked.SecretKey)
		}
	}
	// The signing key likewise: a portal started on the restored data
	// would make a new one.
	wroteSigning := false
	if checked.SigningKey != nil && haveSigning == nil && cfg.MongoURI == "" {
		if err := checkpoint.WriteKey(cfg.DataDir, ed25519.NewKeyFromSeed(checked.SigningKey)); err != nil {
			if wroteKey {
				_ = os.Remove(filepath.Join(cfg.DataDir, secret.KeyFile))
			}
			return fmt.Errorf("cli: restore: nothing was restored: %w", err)
		}
		wroteSigning = true
	}
	sum, err := restoreInto(ctx, cfg, f, stderr)
	if err != nil {
		// The refused folder is left as it was found.
		if wroteKey {
			_ = os.Remove(filepath.Join(cfg.DataDir, secret.KeyFile))
		}
		if wroteSigning {
			_ = os.Remove(filepath.Join(cfg.DataDir, checkpoint.KeyFile))
		}
		return err
	}
	fmt.Fprintf(stdout, "restore: %d documents (%s) restored from %s\n", sum.Total(), counts(sum), file)
	switch {
	case sum.SecretKey == nil && sum.Counts["channels"] > 0:
		fmt.Fprintln(stdout, "restore: the backup holds no secret key: channel secrets saved before it open only with the old PORTAL_SECRET_KEY or secret.key")
	case sum.SecretKey != nil && have == nil && cfg.MongoURI != "":
		// The operator's console, as the first admin password: every
		// portal on this database needs the key to open channel secrets.
		fmt.Fprintf(stdout, "restore: the channel secrets are sealed with the backup's key. Start every portal on this database with\n"+
			"  PORTAL_SECRET_KEY=%s\n", hex.EncodeToString(sum.SecretKey))
	case sum.SecretKey != nil && have == nil:
		fmt.Fprintf(stdout, "restore: the backup's secret key is in %s\n", filepath.Join(cfg.DataDir, secret.KeyFile))
	}
	switch {
	case wroteSigning:
		fmt.Fprintf(stdout, "restore: the backup's checkpoint signing key is in %s\n", filepath.Join(cfg.DataDir, checkpoint.KeyFile))
	case checked.SigningKey != nil && haveSigning == nil:
		fmt.Fprintf(stdout, "restore: the checkpoints are signed with the backup's key. Start every portal on this database with\n"+
			"  PORTAL_SIGNING_KEY=%s\n", base64.StdEncoding.EncodeToString(checked.SigningKey))
	}
	return nil
}

func signingKeyName(cfg *config.Config) string {
	if cfg.SigningKey != "" {
		return "PORTAL_SIGNING_KEY"
	}
	return filepath.Join(cfg.DataDir, checkpoint.KeyFile)
}

// restoreInto reads the backup in f into the configured database, then
// applies every schema step (indexes, backfills) exactly as for a new one.
func restoreInto(ctx context.Context, cfg *config.Config, f io.Reader, stderr io.Writer) (*backup.Summary, error) {
	log := newLogger(cfg, stderr)
	opts, err := dbOptions(cfg, log)
	if err != nil {
		return nil, err
	}
	db, err := database.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer db.Close(context.Background())
	sum, err := backup.Restore(ctx, storage.New(db.Database), f, database.SchemaVersion())
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx, log); err != nil {
		return nil, err
	}
	return sum, nil
}

func keyName(cfg *config.Config) string {
	if cfg.SecretKey != "" {
		return "PORTAL_SECRET_KEY"
	}
	return filepath.Join(cfg.DataDir, secret.KeyFile)
}

func counts(s *backup.Summary) string {
	var parts []string
	for name, n := range s.Counts {
		parts = append(parts, fmt.Sprintf("%s %d", name, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// fileArg parses a command that takes exactly one FILE argument.
func fileArg(fs *flags, args []string) (string, error) {
	if err := fs.parse(args); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		return "", fs.usageError("want exactly one FILE")
	}
	return fs.Arg(0), nil
}
