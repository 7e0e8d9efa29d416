// The storage primitives (file-system calls, mapping, little-endian coding,
// atomic replace, durable append) come from the package-internal target.
import StoragePrimitives
