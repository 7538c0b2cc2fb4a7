package dev.sftp.gateway.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.function.Supplier;

/**
 * A file opened for writing by a user with a quota: every write that makes the file longer takes
 * the growth from its home's {@link Quotas.Usage} first, and fails with the quota's refusal when
 * it does not fit (nothing is written then); a truncation gives the bytes back.
 */
final class QuotaChannel extends FileChannel {
  private final FileChannel file;
  private final Quotas.Usage usage;
  private final Supplier<Long> quota;
  private final Supplier<IOException> exceeded;
  /** The file's length as this channel made it (another channel's writes are not seen). */
  private long size;

  /**
   * @param quota the user's byte quota now (read at every write: a change applies at once)
   * @param exceeded the refusal to throw when a write does not fit
   */
  QuotaChannel(FileChannel file, Quotas.Usage usage, Supplier<Long> quota, Supplier<IOException> exceeded) throws IOException {
    this.file = file;
    this.usage = usage;
    this.quota = quota;
    this.exceeded = exceeded;
    this.size = file.size();
  }

  private synchronized void grow(long end) throws IOException {
    long more = end - size;
    if (more > 0) {
      if (!usage.takeBytes(more, quota.get())) {
        throw exceeded.get();
      }
      size = end;
    }
  }

  /** Gives back what a write took and did not write (a failed or short write). */
  private synchronized void settle(long end) throws IOException {
    long real = file.size();
    if (real < size && end > real) {
      usage.releaseBytes(size - Math.max(real, 0));
      size = real;
    }
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    long end = position + src.remaining();
    grow(end);
    try {
      return file.write(src, position);
    } finally {
      settle(end);
    }
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    long end = file.position() + src.remaining();
    grow(end);
    try {
      return file.write(src);
    } finally {
      settle(end);
    }
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    long n = 0;
    for (int i = offset; i < offset + length; i++) {
      n += srcs[i].remaining();
    }
    long end = file.position() + n;
    grow(end);
    try {
      return file.write(srcs, offset, length);
    } finally {
      settle(end);
    }
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
    long end = position + count;
    grow(end);
    try {
      return file.transferFrom(src, position, count);
    } finally {
      settle(end);
    }
  }

  @Override
  public synchronized FileChannel truncate(long newSize) throws IOException {
    file.truncate(newSize);
    long real = file.size();
    if (real < size) {
      usage.releaseBytes(size - real);
      size = real;
    }
    return this;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return file.read(dst);
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    return file.read(dsts, offset, length);
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    return file.read(dst, position);
  }

  @Override
  public long position() throws IOException {
    return file.position();
  }

  @Override
  public FileChannel position(long newPosition) throws IOException {
    file.position(newPosition);
    return this;
  }

  @Override
  public long size() throws IOException {
    return file.size();
  }

  @Override
  public void force(boolean metaData) throws IOException {
    file.force(metaData);
  }

  @Override
  public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
    return file.transferTo(position, count, target);
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
    throw new UnsupportedOperationException("not mapped: writes through a map would pass the quota");
  }

  @Override
  public FileLock lock(long position, long size, boolean shared) throws IOException {
    return file.lock(position, size, shared);
  }

  @Override
  public FileLock tryLock(long position, long size, boolean shared) throws IOException {
    return file.tryLock(position, size, shared);
  }

  @Override
  protected void implCloseChannel() throws IOException {
    file.close();
  }
}
