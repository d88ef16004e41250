# Reference values for analysis/stats/cox/profile.py, frozen as JSON fixtures.
#
# Run from the repository root:  Rscript tests/r/cox_profile.R
# Made with R 4.2, survival 3.5-3, jsonlite. Writes tests/fixtures/cox_profile/profile_<name>.csv (the data as the
# Python side reads it) and profile_<name>.json (the model in the dashboard's words and R's numbers).
#
# The profile log-likelihood of coefficient j is the log partial likelihood of the model refitted with
# x_j * b as an offset:  coxph(Surv(time, status) ~ X[, -j] + offset(b * X[, j]), ties = "efron").
# (iter.max = 100, see profile_iterations). Its 95 % interval is where 2 * (loglik(full) - profile(b)) =
# qchisq(0.95, 1), found with uniroot();
# a side where the deviance is still below the critical value when the coefficient has moved 25 units of the
# linear predictor across the range of x_j (25 / (max - min) per unit of x_j) is unbounded (-Inf / Inf). The likelihood-ratio test of b = 0 is the model refitted
# without column j (the profile at 0).

suppressPackageStartupMessages(library(survival))

out_dir <- file.path("tests", "fixtures", "cox_profile")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
search_range <- 25
# With one coefficient fixed, the others may have a likelihood that rises towards a limit (quasi-separation
# elsewhere in the model): coxph's default 20 iterations then stop short, at a profile value that is too low.
profile_iterations <- 100

inf_as_string <- function(x) {
  lapply(x, function(v) if (is.infinite(v)) ifelse(v > 0, "Infinity", "-Infinity") else v)
}

# Treatment-coded columns named "column=level", with the reference level given explicitly.
design <- function(d, covariates, reference) {
  cols <- list()
  for (cv in covariates) {
    x <- d[[cv]]
    if (is.numeric(x)) {
      cols[[cv]] <- x
    } else {
      lv <- setdiff(sort(unique(x), method = "radix"), reference[[cv]])
      for (l in lv) cols[[paste0(cv, "=", l)]] <- as.numeric(x == l)
    }
  }
  as.matrix(as.data.frame(cols, check.names = FALSE))
}

profile_loglik <- function(X, time, status, j, b) {
  off <- b * X[, j]
  if (ncol(X) == 1) {
    return(coxph(Surv(time, status) ~ offset(off), ties = "efron")$loglik[1])
  }
  Z <- X[, -j, drop = FALSE]
  suppressWarnings(coxph(Surv(time, status) ~ Z + offset(off), ties = "efron",
                         control = coxph.control(iter.max = profile_iterations)))$loglik[2]
}

profile_reference <- function(name, d, time, event, covariates, reference = list(), note = "") {
  d <- d[complete.cases(d[, c(time, event, covariates)]), c(time, event, covariates)]
  rownames(d) <- NULL
  write.csv(d, file.path(out_dir, paste0("profile_", name, ".csv")), row.names = FALSE, na = "",
            fileEncoding = "UTF-8")
  X <- design(d, covariates, reference)
  tt <- d[[time]]
  st <- d[[event]]
  fit <- suppressWarnings(coxph(Surv(tt, st) ~ X, ties = "efron"))
  best <- fit$loglik[2]
  beta <- unname(coef(fit))
  crit <- qchisq(0.95, 1)
  lower <- upper <- lr <- numeric(ncol(X))
  for (j in seq_len(ncol(X))) {
    dev <- function(b) 2 * (best - profile_loglik(X, tt, st, j, b)) - crit
    span <- search_range / diff(range(X[, j]))  # 25 on the scale of the linear predictor
    side <- function(direction) {
      far <- beta[j] + direction * span
      if (dev(far) < 0) return(direction * Inf)
      uniroot(dev, sort(c(beta[j], far)), tol = 1e-12)$root
    }
    lower[j] <- side(-1)
    upper[j] <- side(1)
    lr[j] <- 2 * (best - profile_loglik(X, tt, st, j, 0))
  }
  res <- list(
    name = name, note = note,
    call = paste0("coxph(Surv(", time, ", ", event, ") ~ X[, -j] + offset(b * X[, j]), ties = \"efron\"); ",
                  "X = treatment-coded ", paste(covariates, collapse = ", ")),
    spec = list(duration = time, event = event, covariates = I(covariates),
                reference = if (length(reference)) reference else NULL),
    terms = I(colnames(X)), coef = I(beta), loglik = I(fit$loglik),
    lower = I(inf_as_string(lower)), upper = I(inf_as_string(upper)),
    lr_statistic = I(lr), lr_p = I(pchisq(lr, 1, lower.tail = FALSE))
  )
  jsonlite::write_json(res, file.path(out_dir, paste0("profile_", name, ".json")), digits = NA,
                       auto_unbox = TRUE, na = "null", null = "null")
}

lung2 <- survival::lung
lung2$status <- as.integer(lung2$status == 2)
lung2$sex <- ifelse(lung2$sex == 1, "male", "female")
lung2$ph.ecog <- as.character(lung2$ph.ecog)
# Well-behaved, with one level of a single patient (ph.ecog = 3): a very wide, asymmetric interval.
profile_reference("lung", lung2, "time", "status", c("age", "sex", "ph.ecog"),
                  reference = list(sex = "male", ph.ecog = "1"))

# The synthetic demo cohort's T-ALL patients with five covariates (17 patients, 13 events): ATG = yes occurs
# only with unrelated donors, so the Wald intervals of ATG and donor are huge; the profile tells the truth.
demo <- read.csv(file.path("data", "demo_cohort.csv"), stringsAsFactors = FALSE, encoding = "UTF-8")
tall <- demo[demo$lineage == "T-ALL", ]
tall$age_group <- ifelse(tall$age_years >= 10, "\u2265 10 y", "< 10 y")
profile_reference("demo_t_all", tall, "followup_months", "death", c("age_group", "sex", "atg", "donor", "remission"),
                  reference = list(age_group = "< 10 y", sex = "female", atg = "no", donor = "MSD", remission = "CR"),
                  note = "ATG = yes only with MUD/MMUD donors (empty cross-tab cells)")

# Monotone likelihood: no event in group b (the data of tests/r/cox.R's "separation" fixture).
sep <- read.csv(file.path("tests", "fixtures", "cox", "separation.csv"), stringsAsFactors = FALSE)
profile_reference("separation", sep, "time", "status", c("group", "x"), reference = list(group = "a"),
                  note = "no event in group b: the interval of group=b is open towards 0")
