package dev.cairn.vfs;

import dev.cairn.core.tree.Name;

/** One entry of a directory listing. Listings are in UTF-8 byte order of the names. */
public record Entry(Name name, Node node) {}
