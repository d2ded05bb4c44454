package database

import (
	"context"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"
)

// commandNames are the commands the metrics name; others count as "other",
// so the label's values stay few whatever the driver sends.
var commandNames = map[string]bool{
	"find": true, "insert": true, "update": true, "delete": true, "aggregate": true, "count": true,
	"getMore": true, "findAndModify": true, "distinct": true, "createIndexes": true, "ping": true,
	"listCollections": true, "listIndexes": true, "drop": true, "killCursors": true, "endSessions": true,
}

// commandMonitor reports each command's name, collection and duration to
// observe. The collection is only in the started event, so it is kept by
// request id until the command ends.
func commandMonitor(observe func(command, collection string, took time.Duration, failed bool)) *event.CommandMonitor {
	var pending sync.Map // request id -> collection
	name := func(cmd string) string {
		if commandNames[cmd] {
			return cmd
		}
		return "other"
	}
	done := func(id int64, cmd string, took time.Duration, failed bool) {
		coll, ok := pending.LoadAndDelete(id)
		if !ok {
			return // a handshake or heartbeat: not started through Started
		}
		observe(name(cmd), coll.(string), took, failed)
	}
	return &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			coll := ""
			if v, err := e.Command.LookupErr(e.CommandName); err == nil {
				coll, _ = v.StringValueOK()
			}
			if e.CommandName == "getMore" {
				if v, err := e.Command.LookupErr("collection"); err == nil {
					coll, _ = v.StringValueOK()
				}
			}
			if !plainName(coll) {
				coll = ""
			}
			pending.Store(e.RequestID, coll)
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			done(e.RequestID, e.CommandName, e.Duration, false)
		},
		Failed: func(_ context.Context, e *event.CommandFailedEvent) {
			done(e.RequestID, e.CommandName, e.Duration, true)
		},
	}
}

// plainName reports a short collection name of lower-case letters and
// underscores, as the portal's are; anything else is not used as a label.
func plainName(s string) bool {
	if len(s) == 0 || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return false
		}
	}
	return true
}
