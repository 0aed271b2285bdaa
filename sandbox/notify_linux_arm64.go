package sandbox

// arm64 has only the *at forms of path syscalls, all in notifySyscalls.
var notifyArchSyscalls = map[uint32]notifyTarget{}
