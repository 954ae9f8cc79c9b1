#!/bin/sh
# bin/parrot of the bundle (bundle.mk): runs lib/parrot.jar on the bundled Java runtime, whatever java is on PATH.
# Extra JVM options: PARROT_JAVA_OPTS (e.g. "-Xmx16g"), split on spaces.
self=$0
while [ -h "$self" ]; do                       # follow symlinks to the real bin/parrot
    link=$(readlink "$self")
    case $link in
        /*) self=$link ;;
        *) self=$(dirname "$self")/$link ;;
    esac
done
home=$(cd "$(dirname "$self")/.." && pwd)
# shellcheck disable=SC2086
exec "$home/runtime/bin/java" --add-modules jdk.incubator.vector $PARROT_JAVA_OPTS -jar "$home/lib/parrot.jar" "$@"
