package spool

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const countersFile = "counters.json"

// counters are the drop totals, kept across restarts so the agent
// measurement never hides data lost before a reboot.
type counters struct {
	DroppedPoints  int64 `json:"dropped_points"`
	DroppedBatches int64 `json:"dropped_batches"`
}

func loadCounters(dir string) (counters, error) {
	var c counters
	data, err := os.ReadFile(filepath.Join(dir, countersFile))
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return counters{}, fmt.Errorf("decode %s: %w", countersFile, err)
	}
	return c, nil
}

// save replaces the counters file atomically: temp file, fsync, rename,
// fsync of the directory.
func (c counters) save(dir string) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	tmp, err := writeTemp(dir, "counters-*"+tempExt, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, countersFile)); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}
