// Package rollup is the shape of the collector's aggregates and the pure
// code that builds, merges and reads them. Scoring reads buckets only, so
// raw points can expire while a year of evidence stays.
//
// # A bucket
//
// One bucket summarises the samples of one field of one series (site,
// measurement and tags, the site and agent tags left out: agents of a site
// are merged) in one hour or one UTC day, for one ok class and one kind:
//
//   - ok class: a point's own ok field splits its samples into OKTrue and
//     OKFalse; points without a bool ok field are OKAbsent. A rule that
//     counts only samples whose ok is true reads the OKTrue buckets and
//     gets exactly the samples it would have selected from raw points.
//   - kind: Number (float, int and uint fields), Bool or String. A field
//     written with the wrong type lands in a bucket of another kind, which
//     a statistic of the right kind never reads.
//
// Every bucket has Count and the latest sample (LastTime, and Last for
// numbers or LastText for bools and strings). Numbers also have Min, Max,
// Sum and a Hist. Bools and strings have the count per distinct value,
// at most MaxValues of them: the most frequent are kept and the rest are
// counted together in Other, whose values are unknown.
//
// # The histogram
//
// A Hist keeps a number field's samples exactly while they have at most
// MaxExact distinct values (a throughput test every few hours, an HTTP
// status), so medians and matches over them are exact. Past that it is a
// fixed log-scale histogram: bins of ratio Gamma = (1+Alpha)/(1-Alpha)
// with Alpha = 1%, mirrored for negative numbers, and a zero bin for
// magnitudes under MinMagnitude. Bins are the same everywhere, so hours
// merge into days and into any window without loss beyond the bins'.
//
// A quantile read from bins is within Alpha (1%) of the true value of the
// same rank when the samples have one sign, interpolating linearly between
// ranks as numpy's default does; near zero the error is at most
// MinMagnitude, and results are clamped to the exact Min and Max. A
// numeric match (a share of samples under a threshold) is exact except
// for the samples in the one bin that holds the threshold, that is within
// 2% of it; those are judged by the bin's midpoint.
//
// # Resolutions and windows
//
// Hourly buckets are built from raw points; daily buckets are merged from
// the hourly ones of the day. Window gives the spans a window reads: whole
// hours from the hour holding its start up to Now, and for windows longer
// than DailyAbove, daily buckets for the whole days inside with hourly ones
// at either end.
package rollup
