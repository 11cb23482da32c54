// One training run (see trainer.h): resolve the setup, build data, network and optimizer, then the epoch
// loop with validation, checkpoints and the run folder's files.
#include "pipeline/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <sstream>
#include <thread>

#include "engine/autograd.h"
#include "engine/error.h"
#include "layers/loss.h"
#include "layers/norm.h"
#include "models/unet.h"
#include "pipeline/checkpoint.h"
#include "pipeline/dataset.h"
#include "pipeline/distributed.h"
#include "pipeline/grad_reducer.h"
#include "pipeline/json.h"
#include "pipeline/loader.h"
#include "pipeline/run_folder.h"
#include "pipeline/samples.h"
#include "pipeline/schedule.h"
#include "pipeline/split.h"

namespace fs = std::filesystem;

namespace lits {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

bool is_placeholder(const std::string& path) { return path.empty() || path.find("placeholder") != std::string::npos; }

std::string string_or(const Setup& s, const char* key, const std::string& fallback) {
  const Value* v = s.find(key);
  return v != nullptr && !v->is_none() ? v->as_string(key) : fallback;
}

}  // namespace

TrainPlan make_train_plan(const Setup& s, int64_t epochs) {
  TrainPlan p;
  p.task = parse_data_task(s.at("data").as_string("data"));
  p.loss = parse_loss_type(s.at("loss_func").as_string("loss_func"));
  p.loss_options.wmap_weight = s.at("wmap_weight").as_double("wmap_weight");
  p.loss_options.epsilon = s.at("epsilon").as_double("epsilon");
  p.loss_options.focal_gamma = s.at("focal_gamma").as_double("focal_gamma");
  if (const Value* v = s.find("class_weights"); v && !v->is_none())
    p.loss_options.class_weights = v->as_double_list("class_weights");
  if (const Value* v = s.find("weight_score"); v && !v->is_none())
    p.loss_options.weight_score = v->as_double_list("weight_score");
  p.net = unet_config_from(s);
  p.schedule = lr_schedule_from(s);
  p.adam.lr = p.schedule.base_lr;
  p.adam.weight_decay = s.at("l2_reg").as_double("l2_reg");
  p.batch = s.at("batch_size").as_int("batch_size");
  p.epochs = epochs >= 0 ? epochs : s.at("n_epochs").as_int("n_epochs");
  p.verbose_idx = s.at("verbose_idx").as_int("verbose_idx");
  p.workers = s.at("num_workers").as_int("num_workers");
  p.perc_data = s.at("perc_data").as_double("perc_data");
  p.train_val_split = s.at("train_val_split").as_double("train_val_split");
  const int64_t seed = s.at("seed").as_int("seed");
  LITS_CHECK(seed >= 0 && seed <= UINT32_MAX, "seed " << seed << " (expected 0 .. 2^32-1, as NumPy's)");
  p.seed = static_cast<uint64_t>(seed);
  LITS_CHECK(p.batch >= 1, "batch_size " << p.batch << " (expected 1 or more)");
  LITS_CHECK(p.epochs >= 0, "n_epochs " << p.epochs << " (expected 0 or more)");
  LITS_CHECK(p.verbose_idx >= 1, "verbose_idx " << p.verbose_idx << " (expected 1 or more)");

  DatasetOptions& d = p.data;
  d.task = p.task;
  d.channels = static_cast<int>(p.net.channels);
  const std::vector<int64_t> crop = s.at("crop_size").as_int_list("crop_size");
  LITS_CHECK(crop.empty() || crop.size() == 2, "crop_size " << s.at("crop_size").str() << " (expected [] or [h, w])");
  if (crop.size() == 2) {
    const int64_t f = int64_t{1} << (p.net.levels() - 1);
    LITS_CHECK(crop[0] % f == 0 && crop[1] % f == 0, "crop_size " << s.at("crop_size").str()
                                                                  << " must be divisible by 2^(levels-1) = " << f
                                                                  << " for a UNet of " << p.net.levels() << " levels");
    d.crop_height = crop[0];
    d.crop_width = crop[1];
  }
  std::vector<std::string> modes;
  for (const Value& m : s.at("augment").as_list("augment")) modes.push_back(m.as_string("augment"));
  d.augment = parse_augment_modes(modes);
  d.pos_sample_chance = s.at("pos_sample_chance").as_int("pos_sample_chance");
  d.roi_vicinity = s.at("Training_ROI_Vicinity").as_int("Training_ROI_Vicinity");
  d.standardize = !s.at("no_standardize").as_bool("no_standardize");
  d.weightmaps = loss_uses_weightmap(p.loss) && p.loss_options.wmap_weight != 0.0;
  d.seed = p.seed;
  return p;
}

namespace {

// Overlap of sample `sample`'s prediction (predicted_mask) with its target.
Overlap overlap_of(const Tensor& out, const Tensor& target, const Tensor& liver, int64_t sample) {
  const int64_t hw = out.shape()[2] * out.shape()[3];
  const std::vector<uint8_t> pred =
      predicted_mask(out, sample, liver.defined() ? liver.data<uint8_t>() + sample * hw : nullptr);
  const int64_t* t = target.data<int64_t>() + sample * hw;
  Overlap r;
  for (int64_t p = 0; p < hw; ++p) {
    const bool fg = pred[static_cast<size_t>(p)] != 0, tr = t[p] != 0;
    r.both += fg && tr;
    r.pred += fg;
    r.truth += tr;
  }
  return r;
}

std::string json_int_list(const std::vector<int>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s.append(i ? ", " : "").append(std::to_string(v[i]));
  return s + "]";
}

// The run folder named by `initialization` or --init: placeholder paths of the presets resolve to the save
// folder, and the Big lesion preset's misspelt 'vUnet_liver_big' to the folder the liver run creates.
std::string resolve_init(const Setup& s, const TrainOptions& o, const std::string& save_parent) {
  std::string init = o.init.empty() ? string_or(s, "initialization", "") : o.init;
  if (init.empty()) return "";
  if (init.find("placeholder") != std::string::npos) {
    std::string base = fs::path(init).filename().string();
    if (base == "vUnet_liver_big") base = "vUnet2D_liver_big";
    init = (fs::path(save_parent).parent_path() / "Standard_Liver_Networks" / base).string();
  }
  LITS_CHECK(fs::is_directory(init), "initialization run folder '" << init
                                                                   << "' does not exist (train the liver "
                                                                      "network first, or pass --init RUN_DIR)");
  return init;
}

// Every rank must run the same job: rank 0's description of it is compared with each rank's own.
void check_same_job(Communicator& comm, const Setup& setup, const TrainOptions& o, const std::string& store,
                    const std::string& save) {
  std::ostringstream d;
  for (const SetupEntry& e : setup.entries()) d << e.section << "." << e.key << "=" << e.value.str() << "\n";
  d << "store=" << fs::absolute(store).string() << "\nsave=" << fs::absolute(save).string() << "\nresume=" << o.resume
    << "\ninit=" << o.init << "\nepochs=" << o.epochs << "\nmax_steps=" << o.max_steps << "\nsync_bn=" << o.sync_bn
    << "\nbucket_mb=" << o.bucket_mb << "\nno_date=" << o.no_date << "\n";
  const std::string mine = d.str();
  std::string lead = mine;
  comm.broadcast_host(lead, 0);
  if (lead == mine) return;
  size_t at = 0;
  while (at < mine.size() && at < lead.size() && mine[at] == lead[at]) ++at;
  const size_t line = mine.rfind('\n', at == 0 ? 0 : at - 1);
  const size_t from = line == std::string::npos ? 0 : line + 1;
  LITS_THROW("rank " << comm.rank() << " was started with another job than rank 0: its '"
                     << mine.substr(from, mine.find('\n', from) - from) << "' differs from rank 0's");
}

}  // namespace

TrainReport train_run(const Setup& setup_in, const TrainOptions& options,
                      const std::function<void(const TrainEvent&)>& on_event, const std::atomic<bool>* stop) {
  const auto t_start = Clock::now();
  // Data parallel (also with a communicator of one rank: the same results as without, by another path).
  Communicator* comm = options.comm;
  const int rank = comm != nullptr ? comm->rank() : 0, ranks = comm != nullptr ? comm->size() : 1;
  const bool lead = rank == 0;  // writes the run folder and reports
  auto emit = [&](TrainEvent e) {
    if (on_event && lead) on_event(e);
  };
  auto message = [&](const std::string& text) {
    TrainEvent e;
    e.text = text;
    emit(e);
  };
  Setup setup = setup_in;
  const Device device = parse_device(options.device);
  LITS_CHECK(comm == nullptr || comm->device() == device, "training on " << device.str() << " with a " << comm->name()
                                                                         << " communicator on "
                                                                         << comm->device().str());
  LITS_CHECK(options.bucket_mb >= 1, "bucket size " << options.bucket_mb << " MiB (expected 1 or more)");
  const DataTask task = parse_data_task(setup.at("data").as_string("data"));

  // ---- folders ----
  std::string store_dir = options.data;
  if (store_dir.empty() && !options.resume.empty()) {
    // A resumed run reads the store it was started on (config.json), unless --data says otherwise.
    const Json j = read_json_file((fs::path(options.resume) / "config.json").string());
    if (const Json* st = j.find("store"); st != nullptr && st->kind == Json::Kind::kString) store_dir = st->text;
  }
  if (store_dir.empty()) {
    const std::string tp = string_or(setup, "Training_Path", "");
    LITS_CHECK(!is_placeholder(tp),
               "no slice store: pass --data STORE (a `lits convert` output), or set Training_Path");
    store_dir = tp;
  }
  std::string save_parent = options.save;
  if (save_parent.empty()) {
    const std::string sp = string_or(setup, "Save_Path", "");
    save_parent = is_placeholder(sp) ? (task == DataTask::kLiver ? "SAVEDATA/Standard_Liver_Networks"
                                                                 : "SAVEDATA/Standard_Lesion_Networks")
                                     : sp;
  }

  // ---- initialization: the architecture of a trained run (section 6.7) ----
  const std::string init_dir = options.resume.empty() ? resolve_init(setup, options, save_parent) : "";
  if (!init_dir.empty()) {
    const Setup init_setup = read_run_setup(init_dir);
    for (const SetupEntry& e : init_setup.entries())
      if (e.section == "Network") setup.set("Network", e.key, e.value, e.file, e.line);
  } else if (options.resume.empty() && task == DataTask::kLesion && !setup.has("structure")) {
    message("note: a lesion run without initialization trains the Baseline network (as the reference does)");
  }
  const TrainPlan plan = make_train_plan(setup, options.epochs);
  if (comm != nullptr) check_same_job(*comm, setup, options, store_dir, save_parent);

  // ---- data ----
  const SliceStore store(store_dir);
  std::vector<int> numbers;
  for (int64_t v = 0; v < store.volumes(); ++v)
    if (store.entry(v).labels) numbers.push_back(volume_number(store.entry(v).name));
  std::sort(numbers.begin(), numbers.end());
  LITS_CHECK(!numbers.empty(), "slice store '" << store_dir << "' holds no training volumes (labels)");
  const VolumeSplit split =
      split_volumes(numbers, static_cast<int64_t>(plan.seed), plan.perc_data, plan.train_val_split);
  LITS_CHECK(!split.train.empty() && !split.validation.empty(),
             "the split of " << numbers.size() << " volumes (perc_data " << plan.perc_data << ", train_val_split "
                             << plan.train_val_split << ") leaves " << split.train.size() << " training and "
                             << split.validation.size() << " validation volumes; both need at least one");
  auto names = [](const std::vector<int>& v) {
    std::vector<std::string> n;
    for (int i : v) n.push_back("volume-" + std::to_string(i));
    return n;
  };
  const Dataset train_set(store, names(split.train), plan.data, DatasetRole::kTraining);
  const Dataset val_set(store, names(split.validation), plan.data, DatasetRole::kValidation);

  // ---- network and optimizer ----
  Generator gen(plan.seed);
  UNet net(plan.net, gen);
  if (!init_dir.empty()) {
    // The heads are kept fresh when the class count differs (the reference replaces them).
    const LoadedCheckpoint init = load_checkpoint((fs::path(init_dir) / "checkpoint_best").string());
    NamedTensors keep;
    const auto own = net.named_parameters();
    for (const auto& [n, t] : init.model) {
      bool head_mismatch = false;
      if (n.rfind("output.", 0) == 0 || n.rfind("aux.", 0) == 0)
        for (const auto& [m, mine] : own) head_mismatch = head_mismatch || (m == n && !(mine.shape() == t.shape()));
      if (!head_mismatch) keep.push_back({n, t});
    }
    if (keep.size() != init.model.size()) {
      // Load everything but the mismatched heads.
      for (const auto& [m, mine] : own)
        if (std::none_of(keep.begin(), keep.end(), [&](const auto& k) { return k.first == m; }))
          keep.push_back({m, mine});
      message("initialization: output heads replaced (class count differs from the initialization run)");
    }
    load_module_state(net, keep, init_dir + "/checkpoint_best");
  }
  net.to(device);
  AdamOptimizer adam(net.named_parameters(), plan.adam);

  // ---- run folder and state ----
  TrainState state;
  std::string run_dir;
  if (!options.resume.empty()) {
    run_dir = options.resume;
    const LoadedCheckpoint c = load_checkpoint((fs::path(run_dir) / "checkpoint_latest").string());
    load_module_state(net, c.model, run_dir + "/checkpoint_latest");
    adam.load_state(c.optimizer, c.state.step);
    state = c.state;
    gen.set_state(state.rng_seed, state.rng_offset);
    message("resuming " + run_dir + " at epoch " + std::to_string(state.epoch) +
            (state.batch ? ", batch " + std::to_string(state.batch) : ""));
  } else if (lead) {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    run_dir = create_run_folder(save_parent, run_folder_name(setup, options.no_date, local));
    std::string extra = "\"store\": " + json_string(fs::absolute(store_dir).string()) +
                        ",\n  \"split\": {\"train\": " + json_int_list(split.train) +
                        ", \"validation\": " + json_int_list(split.validation) + "}" +
                        ",\n  \"initialization\": " + json_string(init_dir) +
                        ",\n  \"parameter_count\": " + std::to_string(net.parameter_count());
    write_run_config(run_dir, setup, extra);
    write_parameters_txt(run_dir, setup);
  }
  state.schedule = plan.schedule.str();
  std::unique_ptr<GradReducer> reducer;
  if (comm != nullptr) {
    if (options.resume.empty()) comm->broadcast_host(run_dir, 0);
    // Every rank starts from rank 0's weights and statistics; dropout masks differ between ranks.
    broadcast_from_rank0(net, *comm);
    if (rank > 0) gen.set_state(gen.seed() ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(rank)), gen.offset());
    int norms = 0;
    if (options.sync_bn)
      net.for_each_module([&](Module& m) {
        if (auto* bn = dynamic_cast<BatchNorm2d*>(&m)) {
          bn->set_sync(comm);
          ++norms;
        }
      });
    if (options.sync_bn && norms == 0) message("note: --sync-bn has no effect: the network has no BatchNorm layers");
    reducer = std::make_unique<GradReducer>(net.parameters(), *comm, options.bucket_mb << 20);
  }

  const int workers =
      options.threads >= 0 ? options.threads
      : device.is_cpu()
          ? 1  // the CPU's cores train; one worker keeps up
          : static_cast<int>(std::min<int64_t>(plan.workers, std::max(1u, std::thread::hardware_concurrency())));
  {
    std::ostringstream d;
    d << "run " << run_dir << "\n  " << data_task_name(plan.task) << " task, " << loss_type_name(plan.loss) << ", "
      << net.parameter_count() << " parameters on " << device.label() << "; " << split.train.size()
      << " training volumes (" << train_set.size() << " samples per epoch, " << train_set.positives().size()
      << " positive), " << split.validation.size() << " validation volumes (" << val_set.size() << " slices)\n  batch "
      << plan.batch << ", crop " << plan.data.crop_height << " x " << plan.data.crop_width << ", augmentation "
      << plan.data.augment.str() << ", " << plan.schedule.str() << ", L2 " << plan.adam.weight_decay << ", " << workers
      << " loader thread" << (workers == 1 ? "" : "s");
    if (comm != nullptr)
      d << "\n  data parallel: " << ranks << " ranks (" << comm->name() << "), global batch " << plan.batch * ranks
        << ", " << reducer->buckets() << " gradient bucket" << (reducer->buckets() == 1 ? "" : "s") << ", "
        << (options.sync_bn ? "synchronized" : "per-rank") << " BatchNorm statistics";
    TrainEvent e;
    e.kind = TrainEvent::Kind::kStart;
    e.text = d.str();
    e.epochs = plan.epochs;
    emit(e);
  }

  TrainReport report;
  report.run_dir = run_dir;
  int64_t steps_this_call = 0;
  LoaderOptions lo;
  lo.batch_size = plan.batch;
  lo.threads = workers;
  lo.prefetch = std::max(2, 2 * workers);
  lo.pin_memory = device.is_cuda();
  lo.shards = ranks;
  lo.shard = rank;
  const int64_t global_batch = plan.batch * ranks;
  const int64_t batches_per_epoch = (train_set.size() + global_batch - 1) / global_batch;
  SampleGrid samples(val_set);

  auto save_latest = [&]() {
    state.step = adam.steps();
    state.rng_seed = gen.seed();
    state.rng_offset = gen.offset();
    if (lead) save_checkpoint((fs::path(run_dir) / "checkpoint_latest").string(), net, adam, state);
  };

  while (state.epoch < plan.epochs) {
    const int64_t epoch = state.epoch;
    const double lr = plan.schedule.lr_at(epoch);
    const auto epoch_t0 = Clock::now();
    const double epoch_seconds_before = state.epoch_seconds;
    // ---- training ----
    net.train();
    lo.first_sample = state.epoch_samples;
    {
      Loader loader(train_set, epoch, lo);
      const auto train_t0 = Clock::now();
      const double train_before = state.epoch_train_seconds;
      while (std::optional<Batch> b = loader.next()) {
        // Synchronized BatchNorm needs a sample on every rank; a last step with fewer is left out by all.
        const bool skip = options.sync_bn && comm != nullptr && b->step_samples < ranks;
        double loss_value = 0.0;  // mean over this rank's samples
        Overlap overlap;
        net.zero_grad();
        if (reducer) reducer->begin();
        if (b->size() > 0 && !skip) {
          const Tensor x = b->input.to(device), t = b->target.to(device);
          const Tensor w = b->weightmap.defined() ? b->weightmap.to(device) : Tensor();
          const UNetOutput out = net.run(x);
          const Tensor loss = deep_supervision_loss(plan.loss, out.out, out.aux, t, w, plan.loss_options);
          loss_value = loss.item();
          if (comm == nullptr) {
            loss.backward();
          } else {
            // Weighted by this rank's share of the step, the sum over ranks is the global batch's gradient.
            const double share = static_cast<double>(b->size()) / static_cast<double>(b->step_samples);
            loss.backward(Tensor::full(loss.shape(), share, loss.dtype(), loss.device()));
          }
          const Tensor host_out = out.out.detach().to(Device::cpu());
          for (int64_t s = 0; s < host_out.shape()[0]; ++s) overlap += overlap_of(host_out, b->target, Tensor(), s);
        }
        if (reducer) reducer->finish();
        bool stop_now =
            (stop != nullptr && stop->load()) || (options.max_steps >= 0 && steps_this_call + 1 >= options.max_steps);
        double step_loss = loss_value;
        if (comm != nullptr) {
          // One small reduction per step: the global mean loss, the pooled overlap, and any rank's stop.
          std::vector<double> v{loss_value * static_cast<double>(b->size()), static_cast<double>(overlap.both),
                                static_cast<double>(overlap.pred), static_cast<double>(overlap.truth),
                                stop_now ? 1.0 : 0.0};
          comm->all_reduce_host(v);
          step_loss = v[0] / static_cast<double>(std::max<int64_t>(b->step_samples, 1));
          overlap.both = static_cast<int64_t>(v[1]);
          overlap.pred = static_cast<int64_t>(v[2]);
          overlap.truth = static_cast<int64_t>(v[3]);
          stop_now = v[4] > 0.0;
        }
        if (skip) {
          message("a last step of " + std::to_string(b->step_samples) + " samples for " + std::to_string(ranks) +
                  " ranks is left out (synchronized BatchNorm needs a sample on every rank)");
        } else {
          LITS_CHECK(std::isfinite(step_loss), "the training loss became "
                                                   << step_loss << " at epoch " << epoch << ", batch " << b->index
                                                   << " (step " << adam.steps() + 1
                                                   << "); stopped, the last checkpoint in '" << run_dir << "' is kept");
          adam.step(lr);
        }
        // Training metrics: the reference's pooled Dice over chunks of verbose_idx steps.
        state.chunk += overlap;
        if (++state.chunk_steps == plan.verbose_idx) {
          state.chunk_dices.push_back(reference_dice(state.chunk));
          state.chunk = Overlap{};
          state.chunk_steps = 0;
        }
        if (!skip) {  // a left-out step has no loss to average in
          state.loss_sum += step_loss;
          ++state.loss_count;
        }
        state.batch = b->index + 1;
        state.epoch_samples += b->step_samples;
        state.epoch_train_seconds = train_before + since(train_t0);
        ++steps_this_call;

        TrainEvent e;
        e.kind = TrainEvent::Kind::kStep;
        e.epoch = epoch;
        e.epochs = plan.epochs;
        e.batch = state.batch;
        e.batches = batches_per_epoch;
        e.loss = state.loss_sum / static_cast<double>(state.loss_count);
        e.dice = reference_dice(state.chunk);
        e.lr = lr;
        e.samples_per_s = static_cast<double>(state.epoch_samples) / std::max(state.epoch_train_seconds, 1e-9);
        // The rest of this epoch's training, then whole epochs (validation included) at the pace of the finished
        // ones, or at this epoch's training pace before any has finished.
        const double per_sample = 1.0 / std::max(e.samples_per_s, 1e-9);
        double epoch_cost = static_cast<double>(batches_per_epoch * global_batch) * per_sample;
        if (!state.rows.empty()) {
          epoch_cost = 0.0;
          for (const EpochRow& r : state.rows) epoch_cost += r.seconds / static_cast<double>(state.rows.size());
        }
        e.eta_seconds = static_cast<double>((batches_per_epoch - state.batch) * global_batch) * per_sample +
                        static_cast<double>(plan.epochs - epoch - 1) * epoch_cost;
        emit(e);

        if (stop_now && state.epoch_samples < train_set.size()) {
          state.epoch_seconds = epoch_seconds_before + since(epoch_t0);
          state.train_seconds += since(epoch_t0);
          save_latest();
          report.stopped = true;
          report.steps = adam.steps();
          report.epochs_done = state.epoch;
          report.best_val_dice = state.best_val_dice;
          report.best_epoch = state.best_epoch;
          report.seconds = since(t_start);
          return report;
        }
      }
    }
    if (state.chunk_steps > 0) state.chunk_dices.push_back(reference_dice(state.chunk));
    double train_dice = 0.0;
    for (double d : state.chunk_dices) train_dice += d;
    train_dice /= std::max<size_t>(state.chunk_dices.size(), 1);

    // ---- validation: per-volume Dice over full slices, eval mode ----
    net.eval();
    std::vector<double> ref_dices, case_dices;
    {
      NoGradGuard no_grad;
      // Every rank validates rank 0's model (the one checkpointed): per-rank BatchNorm statistics differ.
      if (comm != nullptr) broadcast_from_rank0(net, *comm, true);
      // Ranks take turns at the slices; the overlaps are pooled per volume, then summed over ranks.
      std::vector<int32_t> volumes;  // validation volumes in order
      for (const SampleRef& r : val_set.epoch_samples(epoch))
        if (volumes.empty() || volumes.back() != r.volume) volumes.push_back(r.volume);
      std::vector<double> pooled(3 * volumes.size(), 0.0);
      LoaderOptions vo = lo;
      vo.batch_size = 1;
      vo.first_sample = 0;
      samples.clear();
      auto validate = [&](const Batch& b, bool count) {
        const Tensor host_out = net.run(b.input.to(device)).out.to(Device::cpu());
        const Tensor liver = plan.task == DataTask::kLesion ? b.liver : Tensor();
        if (count) {
          const Overlap o = overlap_of(host_out, b.target, liver, 0);
          const size_t v =
              static_cast<size_t>(std::find(volumes.begin(), volumes.end(), b.samples[0].volume) - volumes.begin());
          pooled[3 * v] += static_cast<double>(o.both);
          pooled[3 * v + 1] += static_cast<double>(o.pred);
          pooled[3 * v + 2] += static_cast<double>(o.truth);
        }
        if (lead && samples.wants(b.first))
          samples.add(b.first, b, predicted_mask(host_out, 0, liver.defined() ? liver.data<uint8_t>() : nullptr));
      };
      {
        Loader loader(val_set, epoch, vo);
        while (std::optional<Batch> b = loader.next())
          if (b->size() > 0) validate(*b, true);
      }
      if (comm != nullptr) comm->all_reduce_host(pooled);
      // Rank 0's sample images show slices other ranks validated: it runs those few again.
      if (lead && comm != nullptr)
        for (const int64_t position : samples.positions())
          if (!samples.has(position)) {
            LoaderOptions one = vo;
            one.shards = 1;
            one.shard = 0;
            one.threads = 0;
            one.first_sample = position;
            Loader loader(val_set, epoch, one);
            validate(*loader.next(), false);
          }
      for (size_t v = 0; v < volumes.size(); ++v) {
        Overlap volume;
        volume.both = static_cast<int64_t>(pooled[3 * v]);
        volume.pred = static_cast<int64_t>(pooled[3 * v + 1]);
        volume.truth = static_cast<int64_t>(pooled[3 * v + 2]);
        ref_dices.push_back(reference_dice(volume));
        case_dices.push_back(case_dice(volume));
      }
    }
    EpochRow row;
    row.epoch = epoch;
    row.train_loss = state.loss_sum / static_cast<double>(std::max<int64_t>(state.loss_count, 1));
    row.train_dice = train_dice;
    for (double d : ref_dices) row.val_dice += d / static_cast<double>(ref_dices.size());
    for (double d : case_dices) row.val_case_dice += d / static_cast<double>(case_dices.size());
    row.lr = lr;
    row.samples_per_s = static_cast<double>(state.epoch_samples) / std::max(state.epoch_train_seconds, 1e-9);
    row.seconds = epoch_seconds_before + since(epoch_t0);
    state.train_seconds += since(epoch_t0);
    state.rows.push_back(row);
    // The next epoch starts clean.
    state.epoch = epoch + 1;
    state.batch = 0;
    state.loss_sum = 0.0;
    state.loss_count = 0;
    state.chunk = Overlap{};
    state.chunk_steps = 0;
    state.chunk_dices.clear();
    state.epoch_seconds = 0.0;
    state.epoch_samples = 0;
    state.epoch_train_seconds = 0.0;

    const bool best = row.val_dice > state.best_val_dice;
    if (best) {
      state.best_val_dice = row.val_dice;
      state.best_epoch = epoch;
    }
    state.step = adam.steps();
    state.rng_seed = gen.seed();
    state.rng_offset = gen.offset();
    save_latest();
    if (lead) {
      if (best) save_checkpoint((fs::path(run_dir) / "checkpoint_best").string(), net, adam, state);
      write_log_csv(run_dir, state.rows);
      write_training_plot(run_dir, state.rows);
      samples.write((fs::path(run_dir) / "samples_latest.png").string());
      if (best) samples.write((fs::path(run_dir) / "samples_best.png").string());
    }

    TrainEvent e;
    e.kind = TrainEvent::Kind::kEpochEnd;
    e.epoch = epoch;
    e.epochs = plan.epochs;
    e.loss = row.train_loss;
    e.dice = row.train_dice;
    e.val_dice = row.val_dice;
    e.val_case_dice = row.val_case_dice;
    e.samples_per_s = row.samples_per_s;
    e.seconds = row.seconds;
    e.lr = lr;
    e.best = best;
    emit(e);
    bool stop_after_epoch =
        (stop != nullptr && stop->load()) || (options.max_steps >= 0 && steps_this_call >= options.max_steps);
    if (comm != nullptr) {
      std::vector<double> any{stop_after_epoch ? 1.0 : 0.0};
      comm->all_reduce_host(any);
      stop_after_epoch = any[0] > 0.0;
    }
    if (stop_after_epoch) {
      report.stopped = state.epoch < plan.epochs;  // the checkpoint is already written
      if (report.stopped) break;
    }
  }
  if (!state.rows.empty()) {
    report.last_val_dice = state.rows.back().val_dice;
    report.last_val_case_dice = state.rows.back().val_case_dice;
  }
  report.epochs_done = state.epoch;
  report.steps = adam.steps();
  report.best_val_dice = state.best_val_dice;
  report.best_epoch = state.best_epoch;
  report.seconds = since(t_start);
  return report;
}

}  // namespace lits
