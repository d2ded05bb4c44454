package database

import (
	"context"
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
)

// The embedded database takes the driver's writes one at a time.
//
// SQLite lets one transaction write at a time. FerretDB starts each write
// in a deferred transaction on one of its many connections, so concurrent
// writes collide, and SQLite's busy handler puts the losers to sleep for 1,
// 2, 5, 10 ... 100 ms while the database sits idle. Measured with 8
// writers of an insert and an update each: 512 pairs/s with a worst case
// of 838 ms; one at a time, 800 pairs/s and 32 ms. Queuing the writes here,
// in the only process that uses the embedded database (its folder is
// locked), means SQLite never sees two writers. Reads are not queued: WAL
// serves them beside a writer. Each write is committed (fsync) before its
// answer, so nothing about durability changes.
type serialDialer struct {
	net.Dialer
	mu      sync.Mutex   // held from a write command's request to its answer
	waiting atomic.Int32 // write commands waiting for mu
}

func (d *serialDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.Dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &serialConn{Conn: c, mu: &d.mu, waiting: &d.waiting}, nil
}

// serialConn watches the wire messages on one driver connection: a write
// command (an OP_MSG whose command is insert, update, delete or
// findAndModify and that expects an answer) takes the lock, and the whole
// answer's arrival, an error or Close gives it back. The driver sends one
// message at a time on a connection and reads its answer before the next.
type serialConn struct {
	net.Conn
	mu      *sync.Mutex
	waiting *atomic.Int32

	state   sync.Mutex // guards the fields below (Close may come from another goroutine)
	held    bool
	hdr     [4]byte // the answer's length, as it arrives
	got     int     // bytes of the answer read so far
	pending int     // bytes of the request not yet written (a split write)
}

const opMsg = 2013

// writeCommand reports whether a whole OP_MSG request in b is a write that
// waits for an answer.
func writeCommand(b []byte) bool {
	// Header (16 bytes: length, request id, response to, op code), flag
	// bits (4), section kind (1), then the command document: its length
	// (4), the first element's type (1) and name, which is the command.
	if len(b) < 27 || binary.LittleEndian.Uint32(b[12:16]) != opMsg {
		return false
	}
	if binary.LittleEndian.Uint32(b[16:20])&2 != 0 || b[20] != 0 { // moreToCome: no answer comes
		return false
	}
	name := b[26:]
	for i, c := range name {
		if c == 0 {
			name = name[:i]
			switch string(name) {
			case "insert", "update", "delete", "findAndModify":
				return true
			}
			return false
		}
	}
	return false
}

func (c *serialConn) Write(b []byte) (int, error) {
	c.state.Lock()
	lock := false
	if c.pending == 0 && len(b) >= 4 {
		c.pending = int(binary.LittleEndian.Uint32(b[0:4]))
		lock = !c.held && writeCommand(b)
	}
	c.state.Unlock()
	if lock {
		c.waiting.Add(1)
		c.mu.Lock() // not under state: a wait here must not block Close
		c.waiting.Add(-1)
		c.state.Lock()
		c.held, c.got = true, 0
		c.state.Unlock()
	}
	n, err := c.Conn.Write(b)
	c.state.Lock()
	defer c.state.Unlock()
	c.pending = max(0, c.pending-n)
	if err != nil {
		c.pending = 0
		c.release()
	}
	return n, err
}

func (c *serialConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.state.Lock()
	defer c.state.Unlock()
	if c.held && n > 0 {
		for i := 0; i < n && c.got+i < 4; i++ {
			c.hdr[c.got+i] = b[i]
		}
		c.got += n
		if c.got >= 4 && c.got >= int(binary.LittleEndian.Uint32(c.hdr[:])) {
			c.release()
		}
	}
	if err != nil {
		c.release()
	}
	return n, err
}

// release gives the lock back; state is held.
func (c *serialConn) release() {
	if c.held {
		c.held = false
		c.mu.Unlock()
	}
}

func (c *serialConn) Close() error {
	c.state.Lock()
	c.release()
	c.state.Unlock()
	return c.Conn.Close()
}
