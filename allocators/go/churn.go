// SPDX-License-Identifier: GPL-2.0

// churn, in Go: the workload of allocators/churn.c for a runtime that
// does not go through libc. The Go runtime takes its heap from arenas it
// never unmaps and gives free pages back with MADV_DONTNEED (its
// scavenger; the default on Linux since Go 1.16), in pieces of any size:
// no LD_PRELOAD library sees those calls, so the tables they leave are
// the kernel's (vm.pt_reclaim_dontneed), an operator's (ptreclaim) or
// the program's own (-R) to free.
//
// Goroutines allocate and drop byte slices of 4 KiB to several MiB
// (sizes spread evenly over the powers of two) with random lifetimes,
// writing every page, for a while; then every slice is dropped and
// runtime/debug.FreeOSMemory() runs (a GC, then everything free given
// back). Prints the "churn,PHASE,METRIC,VALUE" lines of churn.c (fresh,
// peak, freed, idle, reclaimed; vmpte_kb, vmrss_kb, used_tables_kb,
// ops_per_s), so harness/guest/alloc-test.c reads both alike.
//
// usage: churn-go [-t GOROUTINES] [-s SECONDS] [-m MIB] [-x MAX_KIB]
//
//	[-S SEED] [-w SECONDS] [-R] [-T]
//
// -T is accepted and does nothing more: FreeOSMemory() always runs.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

const madvPtReclaim = 26

var pageSize = uint64(os.Getpagesize())

func die(what string, err error) {
	fmt.Fprintf(os.Stderr, "churn-go: %s: %v\n", what, err)
	os.Exit(1)
}

// xorshift64*, as churn.c's
type rng uint64

func (s *rng) next() uint64 {
	*s ^= *s >> 12
	*s ^= *s << 25
	*s ^= *s >> 27
	return uint64(*s) * 2685821657736338717
}

// A size from 4 KiB to objMax, log-uniform, not page-aligned.
func pickSize(s *rng, objMax uint64) uint64 {
	lo, hi := uint64(12), uint64(0)
	for (2 << hi) <= objMax {
		hi++
	}
	shift := lo + s.next()%(hi-lo+1)
	n := uint64(1) << shift
	return n + s.next()%n/2
}

func statusKB(key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		die("/proc/self/status", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, key+":") {
			f := strings.Fields(line[len(key)+1:])
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return -1
}

type mapping struct{ start, end uint64 }

// The process's mappings, read whole before acting on them.
func readMaps() []mapping {
	data, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		die("/proc/self/maps", err)
	}
	var maps []mapping
	for _, line := range strings.Split(string(data), "\n") {
		var m mapping
		if _, err := fmt.Sscanf(line, "%x-%x", &m.start, &m.end); err == nil {
			maps = append(maps, m)
		}
	}
	return maps
}

// PAGEMAP_SCAN (linux/fs.h, kernels from 6.7): struct pm_scan_arg and
// struct page_region, and the categories used here.
const (
	pagemapScan   = 0xc0606610 // _IOWR('f', 16, struct pm_scan_arg)
	pageIsPresent = 1 << 3
	pageIsSwapped = 1 << 4
	pageIsHuge    = 1 << 6
)

type pmScanArg struct {
	size, flags, start, end, walkEnd, vec, vecLen, maxPages       uint64
	categoryInverted, categoryMask, categoryAnyofMask, returnMask uint64
}

type pageRegion struct{ start, end, categories uint64 }

type level struct{ shift, last, count uint64 }

// usedTablesKB: the page tables (kB) over a present or swapped page, PTE
// to PUD, as churn.c's used_tables_kb(); -1 where PAGEMAP_SCAN fails, or
// on s390x (2 KiB PTE tables).
func usedTablesKB() int64 {
	if runtime.GOARCH == "s390x" {
		return -1
	}
	ptrs := pageSize / 8
	var lv [3]level
	shift := uint64(0)
	for n := pageSize * ptrs; n > 1; n >>= 1 {
		shift++
	}
	step := uint64(0)
	for n := ptrs; n > 1; n >>= 1 {
		step++
	}
	for l := range lv {
		lv[l] = level{shift: shift + uint64(l)*step, last: ^uint64(0)}
	}
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		die("/proc/self/pagemap", err)
	}
	defer f.Close()
	vec := make([]pageRegion, 4096)
	for _, m := range readMaps() {
		if m.end > 1<<56 { // [vsyscall]
			continue
		}
		arg := pmScanArg{
			size:              uint64(unsafe.Sizeof(pmScanArg{})),
			vec:               uint64(uintptr(unsafe.Pointer(&vec[0]))),
			vecLen:            uint64(len(vec)),
			categoryAnyofMask: pageIsPresent | pageIsSwapped,
			returnMask:        pageIsPresent | pageIsSwapped | pageIsHuge,
		}
		for arg.start = m.start; arg.start < m.end; arg.start = arg.walkEnd {
			arg.end = m.end
			n, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(),
				pagemapScan, uintptr(unsafe.Pointer(&arg)))
			if errno != 0 {
				return -1
			}
			for _, r := range vec[:n] {
				for l := range lv {
					first := r.start >> lv[l].shift
					last := (r.end - 1) >> lv[l].shift
					if l == 0 && r.categories&pageIsHuge != 0 {
						continue
					}
					if lv[l].last != ^uint64(0) && first <= lv[l].last {
						first = lv[l].last + 1
					}
					if first > last {
						continue
					}
					lv[l].count += last - first + 1
					lv[l].last = last
				}
			}
		}
	}
	kb := int64(0)
	for _, l := range lv {
		kb += int64(l.count * (pageSize >> 10))
	}
	return kb
}

func report(phase string) {
	fmt.Printf("churn,%s,vmpte_kb,%d\n", phase, statusKB("VmPTE"))
	fmt.Printf("churn,%s,vmrss_kb,%d\n", phase, statusKB("VmRSS"))
	fmt.Printf("churn,%s,used_tables_kb,%d\n", phase, usedTablesKB())
}

// MADV_PT_RECLAIM over every mapping; the number of EINVAL answers.
func reclaimAll() int {
	einval := 0
	for _, m := range readMaps() {
		_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, uintptr(m.start),
			uintptr(m.end-m.start), madvPtReclaim)
		if errno == syscall.EINVAL {
			einval++
		}
	}
	return einval
}

func main() {
	threads := flag.Int("t", 4, "goroutines")
	seconds := flag.Float64("s", 5, "seconds of churn")
	liveMiB := flag.Uint64("m", 256, "MiB live per goroutine at most")
	maxKiB := flag.Uint64("x", 8192, "largest object in KiB")
	seed := flag.Uint64("S", 1, "seed")
	idle := flag.Float64("w", 0, "seconds to wait after freeing, then report again")
	reclaim := flag.Bool("R", false, "then madvise(MADV_PT_RECLAIM) over every mapping")
	flag.Bool("T", false, "accepted; FreeOSMemory() always runs")
	flag.Parse()
	objMax, liveMax := *maxKiB<<10, *liveMiB<<20
	if flag.NArg() != 0 || *threads < 1 || *threads > 256 || *seconds <= 0 ||
		*idle < 0 || objMax < 4096 || liveMax < objMax {
		flag.Usage()
		os.Exit(2)
	}
	fmt.Printf("churn,fresh,vmpte_kb,%d\n", statusKB("VmPTE"))

	var stop atomic.Bool
	var ops atomic.Uint64
	var wg sync.WaitGroup
	slots := make([][][]byte, *threads)
	t0 := time.Now()
	for i := 0; i < *threads; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := rng(*seed*0x9e3779b97f4a7c15 + uint64(i) + 1)
			obj := make([][]byte, 1024)
			live := uint64(0)
			for !stop.Load() {
				k := s.next() % uint64(len(obj))
				if obj[k] != nil {
					live -= uint64(len(obj[k]))
					obj[k] = nil
				} else {
					n := pickSize(&s, objMax)
					if live+n > liveMax {
						continue
					}
					b := make([]byte, n)
					for j := uint64(0); j < n; j += pageSize {
						b[j] = byte(k)
					}
					b[n-1] = byte(k)
					obj[k] = b
					live += n
				}
				ops.Add(1)
			}
			slots[i] = obj
		}(i)
	}
	time.Sleep(time.Duration(*seconds * float64(time.Second)))
	stop.Store(true)
	wg.Wait()
	dt := time.Since(t0).Seconds()
	report("peak")
	fmt.Printf("churn,peak,ops_per_s,%.0f\n", float64(ops.Load())/dt)
	runtime.KeepAlive(slots)
	slots = nil
	debug.FreeOSMemory()
	fmt.Println("# churn-go: runtime/debug.FreeOSMemory()")
	report("freed")
	if *idle > 0 {
		time.Sleep(time.Duration(*idle * float64(time.Second)))
		report("idle")
	}
	if *reclaim {
		if n := reclaimAll(); n > 0 {
			fmt.Printf("# churn-go: MADV_PT_RECLAIM: EINVAL on %d mappings (a kernel without it?)\n", n)
		}
		report("reclaimed")
	}
}
