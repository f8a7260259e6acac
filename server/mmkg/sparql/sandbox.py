"""Kernel-enforced network ban for the processes that run queries (seccomp, Linux).

The policy check refuses SERVICE before a query reaches the engine; this is the second wall,
so that no future slip in a parser can make Oxigraph call out: once installed, the process
(and every thread it starts later) can open no socket but a Unix one, and cannot use
io_uring (which can open sockets without the socket() system call). Unix sockets stay
because the worker talks to its parent over a pipe and needs nothing else.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

# <linux/audit.h>, <asm/unistd.h>: the two architectures we run on.
_ARCHES = {
    "x86_64": (0xC000003E, 41, 425),   # AUDIT_ARCH_X86_64, __NR_socket, __NR_io_uring_setup
    "aarch64": (0xC00000B7, 198, 425),  # AUDIT_ARCH_AARCH64
}
_X32_SYSCALL_BIT = 0x40000000
_AF_UNIX = 1

# <linux/filter.h>, <linux/seccomp.h>
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6];
_NR, _ARCH, _ARG0 = 0, 4, 16


class SandboxUnavailable(OSError):
    """The kernel refused the filter (not Linux, an unknown architecture, no seccomp)."""


def _program(arch: str) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jump-if-true, jump-if-false, k); jumps count instructions skipped."""
    audit_arch, nr_socket, nr_io_uring = _ARCHES[arch]
    deny = (_RET_K, 0, 0, _RET_ERRNO | errno.EACCES)
    allow = (_RET_K, 0, 0, _RET_ALLOW)
    program = [
        (_LD_W_ABS, 0, 0, _ARCH),
        (_JEQ_K, 1, 0, audit_arch),
        deny,                               # a foreign system-call ABI: refuse everything
        (_LD_W_ABS, 0, 0, _NR),
    ]
    if arch == "x86_64":                    # x32 system calls reach the same kernel code
        program += [(_JGE_K, 0, 1, _X32_SYSCALL_BIT), deny]
    program += [
        (_JEQ_K, 0, 1, nr_io_uring),
        deny,
        (_JEQ_K, 1, 0, nr_socket),          # socket()? look at its domain
        allow,                              # any other system call
        (_LD_W_ABS, 0, 0, _ARG0),           # domain: the low 32 bits of the first argument
        (_JEQ_K, 0, 1, _AF_UNIX),
        allow,                              # a Unix socket
        deny,                               # AF_INET, AF_INET6, AF_PACKET, AF_NETLINK ...
    ]
    return program


def deny_network() -> None:
    """Forbid this process and its future threads every non-Unix socket, irrevocably."""
    arch = platform.machine()
    if platform.system() != "Linux" or arch not in _ARCHES:
        raise SandboxUnavailable(f"no network sandbox for {platform.system()}/{arch}")
    program = _program(arch)
    packed = b"".join(struct.pack("=HBBI", *instruction) for instruction in program)
    filters = ctypes.create_string_buffer(packed)

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(program), ctypes.addressof(filters))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong,
                           ctypes.c_ulong]
    # Without no_new_privs an unprivileged process may not install a filter; it also stops a
    # setuid helper from shedding the filter.
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
        raise SandboxUnavailable(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise SandboxUnavailable(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
