// The options of `ipcatlas run` (see cli.hpp for how options are checked).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "harness/app/cli_options.hpp"
#include "harness/app/output_pattern.hpp"
#include "harness/base/error.hpp"
#include "harness/base/sizes.hpp"
#include "harness/base/text.hpp"
#include "harness/machine/placement.hpp"
#include "harness/ranks/launcher.hpp"

namespace ipcatlas::cli {
namespace {

constexpr const char* kRunFooter = R"(Google Benchmark flags are checked, then applied, for example:
  --benchmark_repetitions=9      repeat every benchmark, 1 to 1000 times; ipcatlas adds
                                 mean/median/stddev/cv over the successful repetitions
  --benchmark_min_time=0.5       seconds each benchmark runs (ipcatlas default: 0.1)
  --benchmark_filter=REGEX       only benchmarks whose name matches, e.g. 'shm|pipe'
  --benchmark_format=json        console output as JSON (or csv) instead of the table
  --benchmark_list_tests         print the benchmark names and run nothing

Benchmark names: SCENARIO/MECHANISM/size:BYTES/ranks:N/placement:CLASS/wait:POLICY[/membind:M][/cache:cold]
Exit status: 0 all measured or skipped, 1 some benchmark failed, 2 bad input.

Examples:
  ipcatlas run                                   every mechanism, 1 B to 4 MiB
  ipcatlas run --mechanisms shm,pipe --sizes 1,64,4K,1M --out results/local/run.json
  ipcatlas run --cpus 0,1 --wait block --benchmark_repetitions=9
  ipcatlas run --mechanisms shm,cma-read --sizes 4K:4M --cache hot,cold    cold buffers as well as hot
  ipcatlas run --scenario alltoall --ranks 8 --mechanisms shm,cma-read,cma-write --sizes 64K,1M
  ipcatlas run --scenario stream --window 64 --bidirectional --placement all --membind local
  salloc -N3 --exclusive srun --ntasks-per-node=1 --whole ipcatlas run --out results/cluster/%j/%n.json
                                                 one file per node (see ci/slurm/ipcatlas.sbatch))";

// --watchdog from 0.1 to 3600 seconds. Not CLI::Range, which lets NaN
// through (every comparison with it is false), and a NaN watchdog never
// fires. It reads the text as CLI11 will, and leaves text that is no number
// to CLI11's own conversion error ("Could not convert: --watchdog = abc").
const CLI::Validator kWatchdogSeconds(
    [](const std::string& text) -> std::string {
      double seconds = 0;
      if (!CLI::detail::lexical_cast(text, seconds)) return "";
      if (!(seconds >= 0.1 && seconds <= kMaxWatchdogSeconds))
        throw UsageError(
            fmt::format("--watchdog {:g}: expected seconds from 0.1 to {:g}", seconds, kMaxWatchdogSeconds));
      return "";
    },
    "");

// "shm,pipe" -> {"shm", "pipe"}; the ids are checked against the registry later.
std::vector<std::string> parse_mechanism_list(const std::string& text) {
  std::vector<std::string> ids = split(text, ',');
  for (const std::string& id : ids)
    if (id.empty()) throw UsageError("empty item in --mechanisms '" + text + "'");
  return ids;
}

// "ptrace=1M" -> {"ptrace", 1048576}
std::pair<std::string, std::size_t> parse_size_cap(const std::string& text) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UsageError("invalid --size-cap '" + text + "' (expected MECHANISM=SIZE, e.g. ptrace=1M)");
  const std::size_t cap = parse_size(text.substr(eq + 1));
  if (cap == 0)
    throw UsageError("invalid --size-cap '" + text + "': the cap must be at least 1 byte (up to " +
                     format_size(kMaxMessageBytes) + ")");
  return {text.substr(0, eq), cap};
}

std::map<std::string, std::size_t> parse_size_caps(const std::vector<std::string>& texts) {
  std::map<std::string, std::size_t> caps;
  for (const std::string& text : texts) {
    const auto [id, cap] = parse_size_cap(text);
    if (!caps.emplace(id, cap).second)
      throw UsageError("--size-cap " + id + " given twice ('" + id + "=" + format_size(caps[id]) + "' and '" + text +
                       "'): give it once");
  }
  return caps;
}

// "hot,cold" -> {hot, cold}
std::vector<CacheState> parse_cache_states(const std::string& text) {
  std::vector<CacheState> states;
  for (const std::string& item : split(text, ',')) {
    const std::optional<CacheState> state = cache_state_named(item);
    if (!state) throw UsageError("invalid --cache '" + text + "' (expected hot, cold, or hot,cold for both)");
    if (std::find(states.begin(), states.end(), *state) != states.end())
      throw UsageError("--cache '" + text + "' names " + item + " twice");
    states.push_back(*state);
  }
  return states;
}

// "1,16,256" -> {1, 16, 256}, each from 1 to kMaxSegments, none twice.
std::vector<std::size_t> parse_segment_counts(const std::string& text) {
  std::vector<std::size_t> counts;
  for (const std::string& item : split(text, ',')) {
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
    if (item.empty() || ec != std::errc{} || end != item.data() + item.size() || n < 1 || n > kMaxSegments)
      throw UsageError(
          fmt::format("invalid --segments '{}': '{}' is not a count from 1 to {}", text, item, kMaxSegments));
    if (std::find(counts.begin(), counts.end(), n) != counts.end())
      throw UsageError(fmt::format("--segments '{}' names {} twice", text, n));
    counts.push_back(n);
  }
  return counts;
}

}  // namespace

void finish_run(RunOptions& run, const std::vector<std::string>& extras) {
  std::vector<std::string> benchmark_args;
  for (const std::string& extra : extras) {
    if (extra.rfind("--benchmark_", 0) != 0) throw UsageError("unknown option or argument '" + extra + "'");
    benchmark_args.push_back(extra);
  }
  run.benchmark = parse_benchmark_flags(benchmark_args);
  if (run.benchmark.list_tests && !run.out.empty())
    throw UsageError("--benchmark_list_tests only lists the benchmark names and measures nothing: drop --out");
  if (!run.out.empty()) run.out = expand_output_pattern(run.out, this_process_output_names());
}

// What `run` measures: the matrix of mechanisms, sizes and placements.
void add_run_command(CLI::App& app, Command& cmd, Subcommands& s) {
  CLI::App* run = app.add_subcommand("run", "Run a benchmark matrix and report it through Google Benchmark");
  help_first(run);
  add_parsed(run, "--mechanisms", cmd.run.mechanisms, parse_mechanism_list,
             "Comma-separated mechanism ids (default: all; see 'ipcatlas list')");
  run->add_option("--scenario", cmd.run.scenario,
                  "Communication pattern: pingpong, stream, alltoall, manytoone or onetomany (see 'ipcatlas list')")
      ->default_val("pingpong");
  // The callback also parses the default, so cmd.run.sizes holds it when --sizes is not given.
  add_parsed(run, "--sizes", cmd.run.sizes, parse_size_list,
             "Message sizes: a list (1,64,4K,1M) and/or ranges MIN:MAX (MIN, the powers of two between, MAX); "
             "K/M/G are 2^10/2^20/2^30")
      ->run_callback_for_default()
      ->default_val(kDefaultSizes);
  run->add_option("--ranks", cmd.run.ranks,
                  "Ranks, 2 to 64 (alltoall, manytoone, onetomany; default 4; pingpong and stream use 2)")
      ->check(CLI::Range(2, kMaxRanks));
  add_parsed(run, "--cpus", cmd.run.cpus, parse_cpu_list,
             "OS PU numbers, one per rank; fewer PUs than ranks oversubscribes them (default: from --placement, "
             "else spread with hwloc)");
  run->add_option("--placement", cmd.run.placement,
                  "A named placement (" + join(placement_class_names()) +
                      "; see 'ipcatlas list --placements'), or 'all' to sweep every one this machine has");
  add_parsed(run, "--membind", cmd.run.membind, parse_membind,
             "Where buffers and shared memory go: local (each rank's NUMA node), remote (the nearest other "
             "node), or a node number");
  add_parsed(run, "--segments", cmd.run.segments, parse_segment_counts,
             "Scatter/gather: every message is N segments (1 to " + std::to_string(kMaxSegments) +
                 ") separated by 64-byte gaps, moved by each mechanism as a library would (readv/writev, N iovecs, "
                 "segment by segment); a list (1,16,256) makes each count a dimension of the matrix, interleaved "
                 "with the others; zerocopy cannot, sizes below N are skipped; default 1");
  run->add_option("--window", cmd.run.window, "stream: messages in flight per window (1 to 4096)")
      ->default_val(64)
      ->check(CLI::Range(1, kMaxWindow));
  run->add_flag("--bidirectional", cmd.run.bidirectional, "stream: both ranks send at once (osu_bibw)");
  CLI::Option* wait = add_parsed(
      run, "--wait", cmd.run.wait, parse_wait_policy,
      "How ranks wait: spin (poll), block (futex), adaptive (spin, then block), or eventfd (epoll_wait on an "
      "eventfd the peer writes, as Mercury; mailbox mechanisms only, see list); default spin, block when "
      "oversubscribed");
  add_parsed(run, "--cache", cmd.run.caches, parse_cache_states,
             "hot (every message reuses one buffer at each end, as OSU does), cold (messages rotate through a pool "
             "of buffers twice the size of the last-level cache, at each end, as IMB's -off_cache), or hot,cold for "
             "both; default hot")
      ->default_val("hot");
  s.run = run;
  s.wait = wait;
}

// How `run` goes about it: output, watchdog, run order, canary, fault injection.
void add_run_conduct_options(Command& cmd, Subcommands& s) {
  CLI::App* run = s.run;
  run->add_option("--out", cmd.run.out,
                  "Write Google Benchmark JSON to FILE when the run completes (checked before it starts; only a "
                  "regular file is ever replaced; missing directories are made). Placeholders, for one file per "
                  "node under srun: %h short host name, %n Slurm node name, %j Slurm job id, %% a percent sign");
  run->add_option("--watchdog", cmd.run.watchdog_seconds,
                  "Seconds (0.1 to 3600) a batch may run beyond its expected time before its ranks are declared hung")
      ->default_val(20.0)
      ->check(kWatchdogSeconds);
  run->add_option_function<std::vector<std::string>>(
      "--size-cap", [&cmd](const std::vector<std::string>& texts) { cmd.run.size_caps = parse_size_caps(texts); },
      "MECHANISM=SIZE: measure MECHANISM up to SIZE (ptrace is capped at 64K unless raised); repeatable");
  run->add_option("--buffer-offset", cmd.run.buffer_offset,
                  "Bytes to add to page alignment of every buffer (0 to 4095)")
      ->default_val(0)
      ->check(CLI::Range(0, 4095));
  add_parsed(run, "--order", cmd.run.order, parse_run_order,
             "With repetitions: blocked (each repetition runs every size's mechanisms back to back in a fresh "
             "random order), interleaved (all runs in one random order) or sequential (each benchmark's "
             "repetitions back to back)")
      ->default_val("blocked");
  CLI::Option* seed =
      run->add_option("--seed", cmd.run.seed,
                      "Seed of the random run order (default: drawn; recorded in the JSON context as order_seed)");
  run->add_option("--canary-retries", cmd.run.canary_retries,
                  "While the drift canary (the bare cache-line bounce, measured before every run) is off from the "
                  "run's usual state by more than --canary-factor, measure it again up to N times, 100 ms apart, "
                  "before measuring; then mark the run (0 to 10)")
      ->default_val(0)
      ->check(CLI::Range(0, 10));
  run->add_option("--canary-factor", cmd.run.canary_factor, "How far off the canary may be, as a ratio (1.1 to 10)")
      ->default_val(2.0)
      ->check(CLI::Range(1.1, 10.0))
      ->check(kNotNaN);
  add_parsed(run, "--inject-fault", cmd.run.fault, parse_fault,
             "Testing: kill, hang or corrupt: from batch 1, rank 1 dies, hangs, or its messages are corrupted; "
             "delay:NS (NS from 0 to 10000000): every message sent costs NS ns more of busy work, in every rank "
             "from the start (a slower version of the code, to prove a CI gate; recorded as injected_fault)")
      ->group("Testing");
  refuse_empty_values(run);
  run->allow_extras();
  run->footer(kRunFooter);
  s.seed = seed;
}

}  // namespace ipcatlas::cli
