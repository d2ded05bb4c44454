package storage

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Group commit of inserts. The embedded database commits each write
// command in its own SQLite transaction, with an fsync, one command at a
// time (database/serial.go): a quiz submit's insert waited for every other
// request's fsync before paying its own. FerretDB stores the documents of
// one insert command in one transaction, so the inserts that arrive while
// one is being written are sent together as the next command: one fsync for
// all of them, and each caller is answered only once that command is
// committed. The insert is unordered, so a duplicate _id fails only its own
// document (FerretDB then stores the others one by one), and each caller is
// told its own outcome: exactly-once stays with the unique _id.
//
// Nothing waits for company: a lone insert is sent at once, and a group is
// only what queued behind the command in flight.
type inserter struct {
	coll *mongo.Collection

	mu      sync.Mutex // guards queue, running
	queue   []*insertCall
	running bool // a goroutine is sending the queue
	// commands counts the insert commands sent (tests).
	commands int
}

type insertCall struct {
	doc  any
	done chan error // one answer: nil, the document's own write error, or the command's error
}

// Bounds of one combined command: FerretDB splits it into statements of
// 100 documents inside its one transaction; far below the 16 MB message limit.
const (
	maxGroupInsert     = 256
	groupInsertTimeout = 10 * time.Second // as the client's own timeout (database.Open)
)

func newInserter(coll *mongo.Collection) *inserter { return &inserter{coll: coll} }

// insert stores doc, possibly in one command with other callers' documents,
// and returns once that command is answered. A caller whose ctx ends while
// its document waits in the queue is told so, and the document is not sent.
func (g *inserter) insert(ctx context.Context, doc any) error {
	call := &insertCall{doc: doc, done: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, call)
	if !g.running {
		g.running = true
		go g.run()
	}
	g.mu.Unlock()
	select {
	case err := <-call.done:
		return err
	case <-ctx.Done():
	}
	// Given up while still queued: taken out, so it is surely not stored
	// (a request that answered an error must not leave an attempt behind).
	// Already sent: its outcome comes within groupInsertTimeout, and is
	// the true one.
	g.mu.Lock()
	for i, c := range g.queue {
		if c == call {
			g.queue = append(g.queue[:i:i], g.queue[i+1:]...)
			g.mu.Unlock()
			return ctx.Err()
		}
	}
	g.mu.Unlock()
	return <-call.done
}

// run sends the queue, a group at a time, until it is empty.
func (g *inserter) run() {
	for {
		g.mu.Lock()
		n := min(len(g.queue), maxGroupInsert)
		if n == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		group := g.queue[:n:n]
		g.queue = g.queue[n:]
		g.commands++
		g.mu.Unlock()
		g.send(group)
	}
}

// send inserts one group in one command and answers each of its callers.
func (g *inserter) send(group []*insertCall) {
	docs := make([]any, len(group))
	for i, c := range group {
		docs[i] = c.doc
	}
	// Not a caller's context: one caller giving up must not fail the others.
	ctx, cancel := context.WithTimeout(context.Background(), groupInsertTimeout)
	defer cancel()
	_, err := g.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	for i, e := range groupErrors(err, len(group)) {
		group[i].done <- e
	}
}

// groupErrors splits a combined insert's error into each document's: a
// write error belongs to the document at its index, and the others were
// stored; any other error (the command failed, or its write concern) is
// every document's.
func groupErrors(err error, n int) []error {
	out := make([]error, n)
	var bwe mongo.BulkWriteException
	if err == nil {
		return out
	}
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		for i := range out {
			out[i] = err
		}
		return out
	}
	for _, we := range bwe.WriteErrors {
		if we.Index >= 0 && we.Index < n {
			out[we.Index] = mongo.WriteException{WriteErrors: []mongo.WriteError{we.WriteError}, Labels: bwe.Labels}
		}
	}
	return out
}
