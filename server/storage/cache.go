package storage

import (
	"maps"
	"slices"
	"sync"
	"time"

	"conductportal/server/model"
)

// AccessCacheTTL is how long this process trusts a session or user it read
// (every request reads both, by _id). Writes through this process drop
// their entries at once; a write by another instance on the same database
// (a logout, a deactivation, a role change) shows here within this time.
const AccessCacheTTL = 2 * time.Second

// accessCache keeps recently read documents by _id for AccessCacheTTL.
type accessCache[T any] struct {
	mu      sync.Mutex
	entries map[string]accessEntry[T]
	drops   uint64 // counts drops: a read that began before one is not kept
}

type accessEntry[T any] struct {
	v  T
	at time.Time
}

// maxAccessEntries bounds the cache between sweeps of expired entries.
const maxAccessEntries = 4096

func (c *accessCache[T]) get(id string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || time.Since(e.at) >= AccessCacheTTL {
		var zero T
		return zero, false
	}
	return e.v, true
}

// begin marks the start of a read, for put.
func (c *accessCache[T]) begin() (time.Time, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now(), c.drops
}

// put keeps v, read from the time and drop count begin returned: an entry
// never outlives AccessCacheTTL counted from before the database answered,
// and a read that a write (and its drop) overtook is not kept.
func (c *accessCache[T]) put(id string, v T, at time.Time, drops uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if drops != c.drops {
		return
	}
	if c.entries == nil {
		c.entries = map[string]accessEntry[T]{}
	}
	if len(c.entries) >= maxAccessEntries {
		for k, e := range c.entries {
			if time.Since(e.at) >= AccessCacheTTL {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxAccessEntries {
			clear(c.entries)
		}
	}
	c.entries[id] = accessEntry[T]{v: v, at: at}
}

func (c *accessCache[T]) drop(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.drops++
	c.mu.Unlock()
}

// dropIf removes the entries whose value matches.
func (c *accessCache[T]) dropIf(match func(T) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drops++
	for k, e := range c.entries {
		if match(e.v) {
			delete(c.entries, k)
		}
	}
}

// copyUser is a copy of u that shares nothing a caller could change.
func copyUser(u *model.User) *model.User {
	c := *u
	c.Roles = slices.Clone(u.Roles)
	c.FormerLogins = slices.Clone(u.FormerLogins)
	c.MFA.Recovery = slices.Clone(u.MFA.Recovery)
	c.Exceptions = maps.Clone(u.Exceptions)
	return &c
}

func copySession(s *model.Session) *model.Session {
	c := *s
	return &c
}
