package dev.cairn.cli;

import dev.cairn.asset.ref.LocalRefStore;
import dev.cairn.asset.ref.RemoteRefStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.ref.RefStore;
import dev.cairn.store.disk.DiskBlobStore;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code cairn ref set NAME DIGEST} / {@code cairn ref get NAME}: named trees, kept as Remote
 * Asset directory mappings under {@code urn:cairn:ref:NAME} — in the local store's asset index, or
 * with {@code --remote} on a server (PushDirectory / FetchDirectory), where any Remote Asset
 * client can resolve them.
 */
@Command(
    name = "ref",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Name a stored tree, or look a name up.",
      "A ref is a Remote Asset mapping urn:cairn:ref:NAME -> root digest, in the local store or"
          + " on --remote. Names: letters, digits, '.', '_', '-', with '/' between segments."
    },
    subcommands = {RefCommand.Set.class, RefCommand.Get.class})
final class RefCommand implements Callable<Integer> {

  @ParentCommand private CairnCommand cairn;
  @Spec private CommandSpec spec;

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "missing subcommand: set or get");
  }

  private interface RefAction<T> {
    T run(RefStore refs) throws IOException;
  }

  /** Runs {@code action} on the local or remote ref store, with usage errors for bad names. */
  <T> T withRefs(CommandSpec caller, RefAction<T> action) throws IOException {
    try {
      if (cairn.remote().isPresent()) {
        RemoteRefStore remote;
        try {
          remote = RemoteRefStore.connect(cairn.remote().get(), cairn.digestFunction());
        } catch (IllegalArgumentException e) {
          throw new ParameterException(caller.commandLine(), "Invalid value for option '--remote': " + e.getMessage());
        }
        try (remote) {
          return action.run(remote);
        } catch (StatusRuntimeException e) {
          throw new IOException(cairn.remote().get() + ": " + e.getStatus().getCode() + ": "
              + e.getStatus().getDescription(), e);
        }
      }
      try (DiskBlobStore store = cairn.openStore()) {
        return action.run(new LocalRefStore(LocalAssets.index(cairn.storePath()), store, Clock.systemUTC()));
      }
    } catch (IllegalArgumentException e) {
      throw new ParameterException(caller.commandLine(), e.getMessage());
    }
  }

  @Command(name = "set", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
      description = {"Point NAME at the tree DIGEST.",
          "The tree must be complete in the store; replaces what NAME pointed to."})
  static final class Set implements Callable<Integer> {
    @ParentCommand private RefCommand ref;
    @Spec private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The ref name, e.g. team/app-inputs.")
    private String name;

    @Parameters(index = "1", paramLabel = "DIGEST", converter = DigestConverter.class,
        description = "A tree's root digest, <hex>/<size>.")
    private Digest digest;

    @Override
    public Integer call() throws IOException {
      ref.withRefs(spec, refs -> {
        RefStore.validate(name);
        refs.set(name, digest);
        return null;
      });
      return 0;
    }
  }

  @Command(name = "get", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
      description = {"Print the root digest NAME points to.",
          "Exits 1 if there is no such ref (or its tree is no longer complete in the store)."})
  static final class Get implements Callable<Integer> {
    @ParentCommand private RefCommand ref;
    @Spec private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The ref name.")
    private String name;

    @Override
    public Integer call() throws IOException {
      Optional<Digest> digest = ref.withRefs(spec, refs -> {
        RefStore.validate(name);
        return refs.get(name);
      });
      if (digest.isEmpty()) {
        ref.cairn.invocation().err().println("cairn: no ref '" + name + "'");
        return FailureHandler.ERROR;
      }
      ref.cairn.invocation().out().println(digest.get());
      return 0;
    }
  }
}
