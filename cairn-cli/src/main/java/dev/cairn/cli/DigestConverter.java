package dev.cairn.cli;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads a {@code <hex>/<size>} argument into a {@link Digest}, so that a malformed digest is a
 * usage error (exit 2) reported with the argument, before any store is opened.
 */
public final class DigestConverter implements ITypeConverter<Digest> {
  @Override
  public Digest convert(String value) {
    try {
      return Digest.parse(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }

  /** Reads {@code sha256} / {@code blake3} for {@code --digest-function}. */
  public static final class FunctionConverter implements ITypeConverter<DigestFunction> {
    @Override
    public DigestFunction convert(String value) {
      try {
        return DigestFunction.parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
