// Package watch tells Herald's engine that its schedules configuration may
// have changed on disk, so that the engine runs its one reload function
// (schedules.Load, then apply only a valid result).
//
// It owns change detection only. It never reads YAML, never decides whether
// a configuration is valid and never applies anything; a Change is a hint
// ("reload now"), and a spurious one costs a reload that changes nothing.
// What it must not do is miss a change, so two detectors feed one debounced
// trigger:
//
//   - fsnotify, for speed. Folders are watched, never single files, because
//     editors and tools replace files by rename and a watch follows the old
//     inode. Every folder of the configured trees is watched (new ones are
//     added and removed ones dropped as they come and go), and so is the
//     folder holding each symlink met on the way to a configuration file,
//     so that a symlink swapped by rename (Kubernetes ConfigMap volumes,
//     git-sync) is seen.
//   - a checksum poll, as a backstop for whatever fsnotify misses (a swap
//     it cannot see, an overflowed queue, a network file system, a watch
//     limit reached). See Watcher.Checksum.
//
// The files that matter are the ones schedules.Load reads: the configured
// files, and every *.yaml and *.yml file under the configured folders,
// skipping hidden names (.git, editor swap files, Kubernetes' ..data) and
// not descending into symlinked folders, though a symlinked *.yaml file is
// followed. A configured path that is itself a symlink is followed. Keep
// this in step with schedules.Load when that changes.
//
// The package must not import the rest of Herald (not even schedules or
// clock): it sits below the engine and is usable on its own. AdaptClock
// turns Herald's clock into this package's Clock.
package watch
