package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The WAL is copied back into the database file by a checkpointer of its
// own, on its own connection, rather than by SQLite's automatic checkpoint,
// which runs inside the commit that crosses wal_autocheckpoint pages: on
// the one writer's path, where a profile under load found a tenth of the
// collector's CPU. A passive checkpoint never waits for the writer or the
// readers, so the writer goes on committing while it runs.
const (
	// checkpointEvery is how often the checkpointer copies what the WAL
	// holds; a second's writes at the load test's rates are 6–40 MB.
	checkpointEvery = time.Second
	// walBackstopPages is the writer's own automatic checkpoint, kept at
	// 64 MiB of 4 KiB pages in case the checkpointer falls behind.
	walBackstopPages = 16384
)

// checkpointer runs on s.ckpt until Close, then closes s.ckptDone.
func (s *Store) checkpointer() {
	defer close(s.ckptDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if _, err := checkpoint(context.Background(), s.ckpt); err != nil {
			s.log.Warn("sqlite: WAL checkpoint", "err", err)
		}
	}
}

// walState is what one checkpoint found and did, in WAL frames (pages).
type walState struct {
	busy                 bool // it could not finish: a reader or the writer held part of the WAL
	frames, checkpointed int
}

// checkpoint copies every WAL frame no reader still needs into the
// database file, without waiting for anyone.
func checkpoint(ctx context.Context, db *sql.DB) (walState, error) {
	var busy int
	var st walState
	if err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &st.frames, &st.checkpointed); err != nil {
		return st, fmt.Errorf("sqlite: wal_checkpoint: %w", err)
	}
	st.busy = busy != 0
	return st, nil
}
