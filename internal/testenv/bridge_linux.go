//go:build linux

package testenv

import (
	"container/heap"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// This kernel has no netem, so delay, jitter and loss come from a small
// userspace L2 bridge (the rig recipe in shared/reference/test-rigs.md,
// section 4): one AF_PACKET socket on each of the router's two interfaces,
// every frame received on one written to the other once its delay is up.

// bridgeQueueLimit bounds the frames held back in one direction, as
// netem's limit does; a frame beyond it is dropped. At 100 Mbit/s a
// 100 ms delay holds about 850 full-size frames.
const bridgeQueueLimit = 20000

// bridgeRecvTimeout is how often a blocked read looks at whether the
// bridge is stopping: closing a packet socket does not wake a thread
// blocked reading it, and closing it under a reader could hand its number
// to another file.
const bridgeRecvTimeout = 100 * time.Millisecond

// bridge forwards frames both ways between two packet sockets.
type bridge struct {
	fds    [2]int
	o      LinkOptions
	stop   chan struct{}
	wg     sync.WaitGroup
	failed atomic.Pointer[error] // the first error that stopped a direction

	forwarded, dropped, overflowed atomic.Int64
}

// startBridge opens packet sockets on ifA and ifB inside ns and forwards
// between them until the test's cleanup, which stops the goroutines and
// then closes the sockets.
func startBridge(t testing.TB, ns *Netns, ifA, ifB string, o LinkOptions) {
	t.Helper()
	fds, err := openPacketSockets(ns.Name, ifA, ifB)
	if err != nil {
		t.Fatalf("delay bridge in %s: %v", ns.Name, err)
	}
	b := &bridge{fds: [2]int{fds[0], fds[1]}, o: o, stop: make(chan struct{})}
	for dir := range 2 {
		q := &delayQueue{wake: make(chan struct{}, 1)}
		in, out := b.fds[dir], b.fds[1-dir]
		b.wg.Go(func() { b.receive(in, q) })
		b.wg.Go(func() { b.send(out, q) })
	}
	t.Cleanup(func() {
		close(b.stop)
		b.wg.Wait()
		for _, fd := range b.fds {
			unix.Close(fd)
		}
		if p := b.failed.Load(); p != nil {
			t.Errorf("delay bridge in %s stopped early: %v", ns.Name, *p)
		}
		t.Logf("delay bridge in %s: %d frames forwarded, %d dropped as loss, %d dropped over the queue limit",
			ns.Name, b.forwarded.Load(), b.dropped.Load(), b.overflowed.Load())
	})
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// openPacketSockets opens one raw AF_PACKET socket bound to each named
// interface of the namespace nsName. A socket belongs to the namespace of
// the thread that creates it for good, so this locks a thread, moves it
// into the namespace, opens the sockets and moves it back.
func openPacketSockets(nsName string, ifs ...string) ([]int, error) {
	type result struct {
		fds []int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		fds, restored, err := inNetns(nsName, func() ([]int, error) { return openSockets(ifs) })
		if restored {
			runtime.UnlockOSThread()
		}
		if err != nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
			fds = nil
		}
		// Otherwise the thread stays locked and the runtime ends it with
		// this goroutine instead of running other code in the wrong
		// namespace.
		ch <- result{fds, err}
	}()
	r := <-ch
	return r.fds, r.err
}

// inNetns runs f on the current, locked thread inside the namespace
// nsName, then puts the thread back in its own namespace; restored says
// whether that worked.
func inNetns(nsName string, f func() ([]int, error)) (fds []int, restored bool, err error) {
	self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
	orig, err := unix.Open(self, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, true, fmt.Errorf("opening %s: %w", self, err)
	}
	defer unix.Close(orig)
	path := "/var/run/netns/" + nsName
	target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, true, fmt.Errorf("opening %s: %w", path, err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		return nil, true, fmt.Errorf("setns into %s: %w", nsName, err)
	}
	fds, err = f()
	if rerr := unix.Setns(orig, unix.CLONE_NEWNET); rerr != nil {
		return fds, false, errors.Join(err, fmt.Errorf("setns back from %s: %w", nsName, rerr))
	}
	return fds, true, err
}

// openSockets opens and binds the sockets in the current thread's
// namespace; on failure it closes those already open.
func openSockets(ifs []string) ([]int, error) {
	var fds []int
	fail := func(err error) ([]int, error) {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, err
	}
	for _, name := range ifs {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return fail(err)
		}
		// Protocol 0 receives nothing until the bind below names the
		// interface, so no frame of another interface slips in first.
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fail(fmt.Errorf("packet socket for %s: %w", name, err))
		}
		fds = append(fds, fd)
		for _, opt := range []struct {
			level, name, value int
		}{
			// Frames the bridge writes come back as PACKET_OUTGOING;
			// the kernel can leave them out (4.20+), and receive skips
			// them anyway.
			{unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1},
			// Room for bursts: FORCE passes net.core.rmem_max as root.
			{unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8 << 20},
			{unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 8 << 20},
		} {
			_ = unix.SetsockoptInt(fd, opt.level, opt.name, opt.value)
		}
		tv := unix.NsecToTimeval(int64(bridgeRecvTimeout))
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			return fail(fmt.Errorf("receive timeout on %s: %w", name, err))
		}
		sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}
		if err := unix.Bind(fd, sa); err != nil {
			return fail(fmt.Errorf("binding to %s: %w", name, err))
		}
	}
	return fds, nil
}

func (b *bridge) stopping() bool {
	select {
	case <-b.stop:
		return true
	default:
		return false
	}
}

func (b *bridge) fail(err error) {
	if !b.stopping() {
		b.failed.CompareAndSwap(nil, &err)
	}
}

// receive reads frames from in and queues each with its due time.
func (b *bridge) receive(in int, q *delayQueue) {
	buf := make([]byte, 1<<16)
	for !b.stopping() {
		n, from, err := unix.Recvfrom(in, buf, 0)
		switch {
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			b.fail(fmt.Errorf("receiving: %w", err))
			return
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		if b.o.Loss > 0 && rand.Float64() < b.o.Loss {
			b.dropped.Add(1)
			continue
		}
		d := b.o.Delay
		if b.o.Jitter > 0 {
			d += time.Duration(rand.Int64N(int64(2*b.o.Jitter)+1)) - b.o.Jitter
		}
		if !q.push(append([]byte(nil), buf[:n]...), time.Now().Add(d)) {
			b.overflowed.Add(1)
		}
	}
}

// send writes each queued frame to out when it is due.
func (b *bridge) send(out int, q *delayQueue) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		frame, wait := q.pop(time.Now())
		if frame != nil {
			// ENOBUFS and the like lose the frame, as a full wire would.
			if _, err := unix.Write(out, frame); err == nil {
				b.forwarded.Add(1)
			} else if errors.Is(err, unix.EBADF) {
				b.fail(fmt.Errorf("sending: %w", err))
				return
			}
			continue
		}
		if wait < 0 {
			wait = time.Hour // empty: wait for a push
		}
		timer.Reset(wait)
		select {
		case <-b.stop:
			return
		case <-q.wake:
		case <-timer.C:
		}
	}
}

// delayQueue holds frames until their due time, earliest first; frames
// due at the same time keep their order.
type delayQueue struct {
	mu   sync.Mutex
	h    frameHeap
	seq  uint64
	wake chan struct{} // signalled when a push makes a new earliest frame
}

type delayed struct {
	due   time.Time
	seq   uint64
	frame []byte
}

// push queues frame for due; false when the queue is full.
func (q *delayQueue) push(frame []byte, due time.Time) bool {
	q.mu.Lock()
	if len(q.h) >= bridgeQueueLimit {
		q.mu.Unlock()
		return false
	}
	q.seq++
	e := &delayed{due: due, seq: q.seq, frame: frame}
	heap.Push(&q.h, e)
	first := q.h[0] == e
	q.mu.Unlock()
	if first {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// pop returns the earliest frame if it is due at now; otherwise nil and
// how long until it is (negative when the queue is empty).
func (q *delayQueue) pop(now time.Time) (frame []byte, wait time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.h) == 0 {
		return nil, -1
	}
	if d := q.h[0].due.Sub(now); d > 0 {
		return nil, d
	}
	return heap.Pop(&q.h).(*delayed).frame, 0
}

type frameHeap []*delayed

func (h frameHeap) Len() int { return len(h) }
func (h frameHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}
func (h frameHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *frameHeap) Push(x any)   { *h = append(*h, x.(*delayed)) }
func (h *frameHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

// Listen opens a listener inside the namespace from the test process
// itself: a socket keeps the namespace of the thread that created it, so
// a server goroutine of this process then serves the namespace's clients.
func (n *Netns) Listen(network, address string) (net.Listener, error) {
	var l net.Listener
	err := n.do(func() (err error) {
		l, err = net.Listen(network, address)
		return err
	})
	if err != nil && l != nil { // opened, but the thread could not return
		l.Close()
		l = nil
	}
	return l, err
}

// Dial connects from inside the namespace, as Listen listens there. The
// address must be a literal IP: a name would be looked up by the host's
// resolver, not the namespace's.
func (n *Netns) Dial(network, address string, timeout time.Duration) (net.Conn, error) {
	var c net.Conn
	err := n.do(func() (err error) {
		c, err = net.DialTimeout(network, address, timeout)
		return err
	})
	if err != nil && c != nil {
		c.Close()
		c = nil
	}
	return c, err
}

// do runs f on a locked thread moved into the namespace; sockets f
// creates belong to the namespace for good.
func (n *Netns) do(f func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		_, restored, err := inNetns(n.Name, func() ([]int, error) { return nil, f() })
		if restored {
			runtime.UnlockOSThread()
		}
		// Otherwise the thread stays locked and ends with this goroutine.
		ch <- err
	}()
	return <-ch
}
