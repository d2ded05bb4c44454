package database

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// opMsgOf is an OP_MSG request whose command document is doc.
func opMsgOf(t *testing.T, flags uint32, doc bson.D) []byte {
	raw, err := bson.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 21, 21+len(raw))
	binary.LittleEndian.PutUint32(b[12:16], opMsg)
	binary.LittleEndian.PutUint32(b[16:20], flags)
	b = append(b, raw...)
	binary.LittleEndian.PutUint32(b[0:4], uint32(len(b)))
	return b
}

func TestWriteCommand(t *testing.T) {
	for _, c := range []struct {
		doc   bson.D
		flags uint32
		want  bool
	}{
		{bson.D{{Key: "insert", Value: "receipts"}}, 0, true},
		{bson.D{{Key: "update", Value: "progress"}}, 0, true},
		{bson.D{{Key: "delete", Value: "sessions"}}, 0, true},
		{bson.D{{Key: "findAndModify", Value: "meta"}}, 0, true},
		{bson.D{{Key: "find", Value: "progress"}}, 0, false},
		{bson.D{{Key: "aggregate", Value: "progress"}}, 0, false},
		{bson.D{{Key: "insertx", Value: "x"}}, 0, false},
		{bson.D{{Key: "insert", Value: "receipts"}}, 2, false}, // moreToCome: no answer to wait for
	} {
		if got := writeCommand(opMsgOf(t, c.flags, c.doc)); got != c.want {
			t.Errorf("%v flags %d: %v, want %v", c.doc, c.flags, got, c.want)
		}
	}
	if writeCommand([]byte{1, 2, 3}) {
		t.Error("a short message is a write")
	}
}

// TestSerialConnHoldsTheLockUntilTheAnswer: a write command holds the
// embedded database's write lock from its request until its whole answer
// is read; a read does not take it.
func TestSerialConnHoldsTheLockUntilTheAnswer(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d := &serialDialer{}
	answer := opMsgOf(t, 0, bson.D{{Key: "ok", Value: 1.0}})
	locked := make(chan bool)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		for {
			var hdr [4]byte
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return
			}
			rest := make([]byte, binary.LittleEndian.Uint32(hdr[:])-4)
			if _, err := io.ReadFull(c, rest); err != nil {
				return
			}
			free := d.mu.TryLock()
			if free {
				d.mu.Unlock()
			}
			locked <- !free
			// The answer in two pieces: the lock stays until the second.
			_, _ = c.Write(answer[:7])
			_, _ = c.Write(answer[7:])
		}
	}()
	conn, err := d.DialContext(context.Background(), "unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, c := range []struct {
		cmd  string
		want bool
	}{{"insert", true}, {"find", false}, {"update", true}} {
		if _, err := conn.Write(opMsgOf(t, 0, bson.D{{Key: c.cmd, Value: "x"}})); err != nil {
			t.Fatal(err)
		}
		if got := <-locked; got != c.want {
			t.Fatalf("%s: lock held while the database works: %v, want %v", c.cmd, got, c.want)
		}
		got := make([]byte, len(answer))
		if _, err := io.ReadFull(conn, got[:4]); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(conn, got[4:]); err != nil {
			t.Fatal(err)
		}
		if !d.mu.TryLock() {
			t.Fatalf("%s: the lock is still held after the whole answer", c.cmd)
		}
		d.mu.Unlock()
	}
}

// TestConcurrentWritesOnEmbedded: many concurrent writers on the embedded
// database all succeed, each document once, through the queued writes.
func TestConcurrentWritesOnEmbedded(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{DataDir: t.TempDir(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	col := db.Database.Collection("progress")
	var wg sync.WaitGroup
	errs := make(chan error, 16*20)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				if _, err := col.InsertOne(ctx, bson.M{"_id": fmt.Sprint(g, "-", i)}); err != nil {
					errs <- err
				}
				if _, err := col.UpdateOne(ctx, bson.M{"_id": "shared"}, bson.M{"$inc": bson.M{"n": 1}}, optsUpsert()); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n, err := col.CountDocuments(ctx, bson.M{})
	if err != nil || n != 16*20+1 {
		t.Fatalf("documents: %d %v", n, err)
	}
	var doc struct{ N int }
	if err := col.FindOne(ctx, bson.M{"_id": "shared"}).Decode(&doc); err != nil || doc.N != 16*20 {
		t.Fatalf("concurrent $inc: %d %v", doc.N, err)
	}
}

func optsUpsert() *options.UpdateOneOptionsBuilder { return options.UpdateOne().SetUpsert(true) }
