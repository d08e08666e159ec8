package sqlite

// markedDays remembers which series-days have a row in
// rollup_pending_days, so that an hour rebuilt again and again while it
// fills does not insert the same marks (one a series-field: hundreds of
// thousands for a large collector) on every run. It holds a bit a rollup
// series id a day; ids are small and dense, so 13 million series take
// 1.6 MB a day. Guarded by Store.rollupMu: a bit is set only after the
// transaction that inserted its row commits, and cleared when the row is
// deleted, so a set bit always means the row is there.
type markedDays struct {
	days map[int64][]uint64 // day (ns) → bitset over sid
}

func (m *markedDays) has(day, sid int64) bool {
	bits := m.days[day]
	i := uint64(sid)
	return i/64 < uint64(len(bits)) && bits[i/64]&(1<<(i%64)) != 0
}

func (m *markedDays) set(day int64, sids []int64) {
	if len(sids) == 0 {
		return
	}
	if m.days == nil {
		m.days = map[int64][]uint64{}
	}
	bits := m.days[day]
	for _, sid := range sids {
		i := uint64(sid)
		if need := int(i/64) + 1; need > len(bits) {
			bits = append(bits, make([]uint64, need-len(bits)+len(bits)/4)...)
		}
		bits[i/64] |= 1 << (i % 64)
	}
	m.days[day] = bits
}

func (m *markedDays) clear(day, sid int64) {
	bits := m.days[day]
	if i := uint64(sid); i/64 < uint64(len(bits)) {
		bits[i/64] &^= 1 << (i % 64)
	}
}

// forgetBefore drops the bitsets of days before day: every mark of them
// has been rolled up, and a late one is inserted as if new.
func (m *markedDays) forgetBefore(day int64) {
	for d := range m.days {
		if d < day {
			delete(m.days, d)
		}
	}
}
