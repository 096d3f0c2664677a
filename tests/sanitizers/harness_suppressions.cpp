// The sanitizers' suppressions for the test programs and the sandbox alone; never linked into
// authgate (see CMakeLists.txt, AUTHGATE_SANITIZE). lsan.supp applies to every program.
//
// OpenSSL keeps per-thread state (the error queue, the per-thread random generators and what they
// fetch) in thread-specific storage and frees it when a thread exits. The thread pool of cpprest,
// whose HTTPS client and listener these programs use, is still running when they exit, and this
// LeakSanitizer does not scan thread-specific storage: that state is reported as leaked. OpenSSL
// is built without frame pointers, so the stacks of those reports end inside libcrypto and cannot
// be told apart by function; following them (fast_unwind_on_malloc=0) makes the suite thirty
// times slower. So in these programs only, memory allocated inside libcrypto is not checked for
// leaks. Every other finding (use after free, overflows, leaks of our own allocations) still is.
//
// The same holds for cpprest's listener in the sandbox: a connection a client leaves open when the
// sandbox is stopped (a webhook POST answered just before, for instance) keeps a pending read's
// continuation (80 bytes to a few KB) that is never run or freed; libcpprest has no frame pointers
// either, so its stacks end inside it. In these programs only, memory allocated inside libcpprest
// is not checked for leaks; authgate, which lsan.supp covers, still is.
extern "C" const char* __lsan_default_suppressions() { return "leak:libcrypto.so\nleak:libcpprest.so\n"; }

// UBSan reads suppressions from a file only: ubsan.supp, next to this one.
extern "C" const char* __ubsan_default_options() { return "suppressions=" AUTHGATE_UBSAN_SUPPRESSIONS; }
