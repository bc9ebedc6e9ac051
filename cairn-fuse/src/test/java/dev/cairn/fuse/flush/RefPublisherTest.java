package dev.cairn.fuse.flush;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.ref.RefStore;
import dev.cairn.fuse.RecordingLogger;
import dev.cairn.fuse.flush.RefPublisher.Published;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

class RefPublisherTest {

  /** Refs in memory: RefStore is the collaborator here, not the boundary under test. */
  static final class MemoryRefs implements RefStore {
    final Map<String, Digest> refs = new ConcurrentHashMap<>();

    @Override
    public Optional<Digest> get(String name) {
      return Optional.ofNullable(refs.get(RefStore.validate(name)));
    }

    @Override
    public void set(String name, Digest root) {
      refs.put(RefStore.validate(name), root);
    }
  }

  static Digest digest(String content) {
    return DigestFunction.SHA256.digestOf(content.getBytes(StandardCharsets.UTF_8));
  }

  private final MemoryRefs refs = new MemoryRefs();
  private final RecordingLogger log = new RecordingLogger();

  @Test
  void publish_movesTheRef_whileNobodyElseDid() throws IOException {
    Digest base = digest("base");
    refs.set("team/app", base);
    RefPublisher p = new RefPublisher(refs, "team/app", Optional.of(base), log);
    assertThat(p.publish(digest("v1"))).isEqualTo(new Published("team/app", digest("v1"), false));
    assertThat(p.publish(digest("v2"))).isEqualTo(new Published("team/app", digest("v2"), false));
    assertThat(refs.get("team/app")).contains(digest("v2"));
    assertThat(log.at(Level.WARNING)).isEmpty();
  }

  @Test
  void publish_createsARefThatDidNotExistAtMount() throws IOException {
    RefPublisher p = new RefPublisher(refs, "new", Optional.empty(), log);
    assertThat(p.publish(digest("v1")).ref()).isEqualTo("new");
    assertThat(refs.get("new")).contains(digest("v1"));
  }

  @Test
  void publish_neverClobbersARefSomeoneElseMoved() throws IOException {
    Digest base = digest("base");
    refs.set("app", base);
    refs.set("app.conflict-1", digest("an older conflict"));
    RefPublisher p = new RefPublisher(refs, "app", Optional.of(base), log);
    p.publish(digest("mine-1"));
    refs.set("app", digest("theirs"));

    Published result = p.publish(digest("mine-2"));

    assertThat(result).isEqualTo(new Published("app.conflict-2", digest("mine-2"), true));
    assertThat(refs.get("app")).contains(digest("theirs"));
    assertThat(refs.get("app.conflict-1")).contains(digest("an older conflict"));
    assertThat(log.at(Level.WARNING)).singleElement().satisfies(w -> assertThat(w)
        .contains("ref app was moved", digest("theirs").toString(), digest("mine-1").toString(),
            digest("mine-2").toString(), "app.conflict-2"));
    // Later flushes follow the conflict ref, quietly.
    assertThat(p.publish(digest("mine-3"))).isEqualTo(new Published("app.conflict-2", digest("mine-3"), true));
    assertThat(refs.get("app")).contains(digest("theirs"));
    assertThat(log.at(Level.WARNING)).hasSize(1);
  }

  @Test
  void publish_refDeletedOrCreatedBySomeoneElse_isAConflictToo() throws IOException {
    refs.set("gone", digest("base"));
    RefPublisher deleted = new RefPublisher(refs, "gone", Optional.of(digest("base")), log);
    refs.refs.remove("gone");
    assertThat(deleted.publish(digest("x")).ref()).isEqualTo("gone.conflict-1");
    assertThat(log.at(Level.WARNING).getFirst()).contains("(deleted)");

    RefPublisher created = new RefPublisher(refs, "fresh", Optional.empty(), log);
    refs.set("fresh", digest("someone"));
    assertThat(created.publish(digest("y")).ref()).isEqualTo("fresh.conflict-1");
  }

  @Test
  void publish_ofWhatTheRefAlreadyHas_isNoConflict() throws IOException {
    refs.set("same", digest("base"));
    RefPublisher p = new RefPublisher(refs, "same", Optional.of(digest("base")), log);
    refs.set("same", digest("identical work"));
    assertThat(p.publish(digest("identical work")).conflict()).isFalse();
  }

  @Test
  void invalidRefName_isRejectedUpFront() {
    assertThatThrownBy(() -> new RefPublisher(refs, "../x", Optional.empty()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid ref name");
  }
}
