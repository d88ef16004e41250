# Reference values for the calibration of the synthetic demo cohort (analysis/calibration.py,
# tests/test_calibration.py), frozen as a JSON fixture.
#
# Run from the repository root:  Rscript tests/r/demo_cohort.R
# Needs the R package jsonlite (Debian: apt-get install r-cran-jsonlite) to write the JSON.
# Reads  data/demo_cohort.csv (the committed demo cohort; its MD5 is stored in the fixture so that
#        the tests notice when the cohort is regenerated and this script must be rerun).
# Writes tests/fixtures/demo_cohort/r_reference.json. Made with R 4.x and survival 3.5-3.
#
# What is computed (times in months from HSCT2):
#   km        OS = Surv(followup_months, death); RFS = Surv(relapse_months if relapsed else
#             followup_months, relapse | death); summary(survfit(..., conf.type = "log-log"),
#             times = c(12, 24, 60)): surv, lower, upper, n.risk.
#   followup  median of survfit(Surv(followup_months, 1 - death) ~ 1) (reverse Kaplan-Meier),
#             in months and years (/ 12).
#   relapse   number of relapses, percent of patients, median(relapse_months) among the relapsed.
#   cox       coxph(ties = "efron"): OS ~ age10 + lineage + sex + atg, RFS ~ age10 + lineage,
#             references age < 10, B-ALL, female, ATG no: coef, HR, se, Wald p, 95 % CI.

suppressPackageStartupMessages(library(survival))

out_dir <- file.path("tests", "fixtures", "demo_cohort")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
csv <- file.path("data", "demo_cohort.csv")

# jsonlite writes the JSON: numbers to 15 significant digits (digits = NA, jsonlite's maximum),
# length-1 vectors as scalars unless wrapped in I(), NA/NaN/Inf and NULL as null.
write_fixture <- function(x, path) {
  jsonlite::write_json(x, path, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE)
}

d <- read.csv(csv, stringsAsFactors = FALSE)
d$rfs_time <- ifelse(d$relapse == 1, d$relapse_months, d$followup_months)
d$rfs_event <- pmax(d$relapse, d$death)
d$age10 <- factor(ifelse(d$age_years >= 10, ">= 10", "< 10"), levels = c("< 10", ">= 10"))
d$lineage <- factor(d$lineage, levels = c("B-ALL", "T-ALL"))
d$sex <- factor(d$sex, levels = c("female", "male"))
d$atg <- factor(d$atg, levels = c("no", "yes"))
times <- c(12, 24, 60)

km <- function(time, event) {
  s <- summary(survfit(Surv(time, event) ~ 1, conf.type = "log-log"), times = times)
  list(months = I(s$time), surv = I(s$surv), lower = I(s$lower), upper = I(s$upper),
       n_risk = I(s$n.risk))
}

cox <- function(formula) {
  fit <- coxph(formula, data = d, ties = "efron")
  s <- summary(fit)
  list(term = I(rownames(s$coefficients)), coef = I(s$coefficients[, "coef"]),
       hr = I(s$coefficients[, "exp(coef)"]), se = I(s$coefficients[, "se(coef)"]),
       p = I(s$coefficients[, "Pr(>|z|)"]), lower = I(s$conf.int[, "lower .95"]),
       upper = I(s$conf.int[, "upper .95"]), n = fit$n, events = fit$nevent)
}

reverse <- survfit(Surv(followup_months, 1 - death) ~ 1, data = d)
median_fu <- unname(quantile(reverse, probs = 0.5)$quantile)
relapsed <- d$relapse == 1

ref <- list(
  source = "Rscript tests/r/demo_cohort.R",
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  csv_md5 = unname(tools::md5sum(csv)),
  n = nrow(d),
  km = list(os = km(d$followup_months, d$death), rfs = km(d$rfs_time, d$rfs_event)),
  followup = list(median_months = median_fu, median_years = median_fu / 12),
  relapse = list(count = sum(relapsed), percent = 100 * mean(relapsed),
                 median_months = median(d$relapse_months[relapsed])),
  cox = list(
    os = cox(Surv(followup_months, death) ~ age10 + lineage + sex + atg),
    rfs = cox(Surv(rfs_time, rfs_event) ~ age10 + lineage)
  )
)
write_fixture(ref, file.path(out_dir, "r_reference.json"))
cat("wrote", file.path(out_dir, "r_reference.json"), "\n")
