# In-process timings of R's survival and cmprsk on the benchmark's data (benchmarks/bench_scale.py).
#   Rscript benchmarks/r_timings.R TASK data.csv REPEATS   -> prints the median seconds
# TASK: km (survfit), logrank (survdiff, 2 groups), cox (coxph, Efron, with its concordance),
#       cuminc (cmprsk::cuminc: CIF of both causes per group and Gray's test of each cause).
suppressMessages({library(survival); library(cmprsk)})
args <- commandArgs(TRUE)
task <- args[1]
d <- read.csv(args[2], stringsAsFactors = TRUE)
repeats <- as.integer(args[3])
run <- switch(task,
  km = function() survfit(Surv(time, event) ~ 1, data = d, conf.type = "log-log"),
  logrank = function() survdiff(Surv(time, event) ~ group, data = d),
  cox = function() {
    fit <- coxph(Surv(followup_months, death) ~ age_years + sex + lineage + atg + months_hsct1_to_relapse,
                 data = d, ties = "efron")
    fit$concordance
  },
  cuminc = function() cuminc(d$time, d$cause, d$group),
  stop("unknown task ", task))
times <- replicate(repeats, system.time(run())[["elapsed"]])
cat(median(times), "\n")
