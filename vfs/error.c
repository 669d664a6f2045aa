/*
 * vfs_strerror(): errno text for humans.
 *
 * strerror() is not thread-safe and strerror_r() comes in two flavours;
 * the table below covers every errno the library returns, and anything
 * else falls back to a fixed string rather than a shared buffer.
 */
#include "core_int.h"

#include <errno.h>
#include <limits.h>

VFS_EXTERN const char *vfs_strerror(int err)
{
	if (err == INT_MIN)
		return "Unknown error";
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "Success";
	case EPERM:
		return "Operation not permitted";
	case ENOENT:
		return "No such file or directory";
	case EIO:
		return "Input/output error";
	case ENXIO:
		return "No such device or address";
	case E2BIG:
		return "Argument list too long";
	case EBADF:
		return "Bad file descriptor";
	case EAGAIN:
		return "Resource temporarily unavailable";
	case ENOMEM:
		return "Cannot allocate memory";
	case EACCES:
		return "Permission denied";
	case EFAULT:
		return "Bad address";
	case EBUSY:
		return "Device or resource busy";
	case EEXIST:
		return "File exists";
	case EXDEV:
		return "Invalid cross-device link";
	case ENODEV:
		return "No such device";
	case ENOTDIR:
		return "Not a directory";
	case EISDIR:
		return "Is a directory";
	case EINVAL:
		return "Invalid argument";
	case ENFILE:
		return "Too many open files in system";
	case EMFILE:
		return "Too many open files";
	case EFBIG:
		return "File too large";
	case ENOSPC:
		return "No space left on device";
	case ESPIPE:
		return "Illegal seek";
	case EROFS:
		return "Read-only file system";
	case EMLINK:
		return "Too many links";
	case EPIPE:
		return "Broken pipe";
	case ERANGE:
		return "Numerical result out of range";
	case ENAMETOOLONG:
		return "File name too long";
	case ENOSYS:
		return "Function not implemented";
	case ENOTEMPTY:
		return "Directory not empty";
	case ELOOP:
		return "Too many levels of symbolic links";
	case ENODATA:
		return "No data available";
	case EOVERFLOW:
		return "Value too large for defined data type";
	case EPROTONOSUPPORT:
		return "Protocol not supported";
	case ENOTSUP:
		return "Operation not supported";
	case ESTALE:
		return "Stale file handle";
	case EDQUOT:
		return "Disk quota exceeded";
	case ENOTCONN:
		return "Transport endpoint is not connected";
	case ETIMEDOUT:
		return "Connection timed out";
	case EINTR:
		return "Interrupted system call";
	default:
		return "Unknown error";
	}
}
