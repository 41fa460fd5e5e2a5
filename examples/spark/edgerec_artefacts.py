"""Artefacts for `edgerec pack`, computed with Spark where no single machine holds the data.

Reads interactions from the event lake (Parquet with the columns USER_ID, ITEM_ID, TIMESTAMP,
EVENT_TYPE, EVENT_VALUE, EVENT_ID, partitioned by dt=YYYY-MM-DD; rows deduplicated by
EVENT_ID) or from a Personalize interactions CSV (USER_ID, ITEM_ID, TIMESTAMP, ...), and writes
four Parquet tables under --output:

  item_factors/  id, features   implicit ALS item factors (pyspark.ml.recommendation.ALS)
  user_factors/  id, features   implicit ALS user factors
  neighbors/     item, neighbour, weight   top-K co-interaction neighbours per item (cosine)
  popularity/    item, count    distinct users per item

Ids are the ORIGINAL ids of the interactions (ALS's integer indices are joined back), so
`edgerec pack` can put the tables into one model file:

  spark-submit --master 'local[*]' examples/spark/edgerec_artefacts.py \
      --interactions interactions.csv --output artefacts/
  edgerec pack --item-factors artefacts/item_factors --user-factors artefacts/user_factors \
      --neighbors artefacts/neighbors --popularity artefacts/popularity \
      --interactions interactions.csv --output model.erm

Every aggregate written (a popularity count, a neighbour pair) is backed by at least
--min-users distinct users, as `edgerec train` keeps its models (its k-anonymity floor).
"""

import argparse
import sys
import time

from pyspark.ml.recommendation import ALS
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--interactions", required=True,
                   help="a Personalize interactions CSV (file or folder), or the lake's Parquet root (s3://... works on EMR/Databricks)")
    p.add_argument("--format", choices=["auto", "csv", "lake"], default="auto",
                   help="csv or lake; auto: csv when the path ends in .csv, else lake")
    p.add_argument("--output", required=True, help="folder to write the four tables under")
    p.add_argument("--event-type", default=None, help="learn from this event type only (default: all)")
    p.add_argument("--rank", type=int, default=64, help="ALS factors")
    p.add_argument("--reg-param", type=float, default=0.1, help="ALS regParam (Spark scales it by each row's interactions)")
    p.add_argument("--alpha", type=float, default=20.0, help="ALS implicit confidence: 1 + alpha * count")
    p.add_argument("--max-iter", type=int, default=10, help="ALS iterations")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--neighbors", type=int, default=100, help="neighbours kept per item")
    p.add_argument("--max-user-history", type=int, default=1000,
                   help="most recent distinct items per user that form neighbour pairs (bounds the self-join)")
    p.add_argument("--min-users", type=int, default=5,
                   help="drop popularity counts and neighbour pairs backed by fewer distinct users")
    p.add_argument("--partitions", type=int, default=None,
                   help="shuffle partitions and ALS blocks (default: Spark's; a laptop wants about its cores)")
    return p.parse_args(argv)


def read_interactions(spark: SparkSession, path: str, fmt: str) -> DataFrame:
    """USER_ID, ITEM_ID (strings), TIMESTAMP (epoch seconds), EVENT_TYPE (lower-cased)."""
    if fmt == "auto":
        fmt = "csv" if path.lower().rstrip("/").endswith(".csv") else "lake"
    if fmt == "csv":
        df = spark.read.option("header", True).csv(path)
    else:
        # dt=YYYY-MM-DD partitions are discovered as a column; a retried write may land an
        # event twice, EVENT_ID makes it once.
        df = spark.read.option("mergeSchema", True).parquet(path)
    cols = {c.upper(): c for c in df.columns}
    for need in ("USER_ID", "ITEM_ID", "TIMESTAMP"):
        if need not in cols:
            raise SystemExit(f"{path}: no {need} column (found: {', '.join(df.columns)})")
    if fmt == "lake" and "EVENT_ID" in cols:
        df = df.dropDuplicates([cols["EVENT_ID"]])
    ts = F.col(cols["TIMESTAMP"])
    if isinstance(df.schema[cols["TIMESTAMP"]].dataType, T.TimestampType):
        ts = F.unix_timestamp(ts)
    event_type = F.lower(F.col(cols["EVENT_TYPE"])) if "EVENT_TYPE" in cols else F.lit("click")
    return df.select(
        F.col(cols["USER_ID"]).cast("string").alias("USER_ID"),
        F.col(cols["ITEM_ID"]).cast("string").alias("ITEM_ID"),
        ts.cast("long").alias("TIMESTAMP"),
        event_type.alias("EVENT_TYPE"),
    ).where(F.col("USER_ID").isNotNull() & F.col("ITEM_ID").isNotNull())


def with_index(df: DataFrame, column: str, index: str) -> DataFrame:
    """The distinct values of `column` with a dense integer index (ALS takes int32 ids)."""
    distinct = df.select(column).distinct()
    rdd = distinct.rdd.map(lambda r: r[0]).zipWithIndex()
    schema = T.StructType([
        T.StructField(column, T.StringType(), False),
        T.StructField(index, T.LongType(), False),
    ])
    indexed = distinct.sparkSession.createDataFrame(rdd, schema)
    return indexed.withColumn(index, F.col(index).cast("int")).cache()


def factors(events: DataFrame, a) -> tuple:
    """Implicit ALS on the interaction counts per (user, item); factors with the original ids."""
    users = with_index(events, "USER_ID", "u")
    items = with_index(events, "ITEM_ID", "i")
    ratings = (events.groupBy("USER_ID", "ITEM_ID").agg(F.count(F.lit(1)).cast("float").alias("r"))
               .join(users, "USER_ID").join(items, "ITEM_ID")).cache()
    blocks = {"numUserBlocks": a.partitions, "numItemBlocks": a.partitions} if a.partitions else {}
    als = ALS(implicitPrefs=True, rank=a.rank, regParam=a.reg_param, alpha=a.alpha,
              maxIter=a.max_iter, seed=a.seed, userCol="u", itemCol="i", ratingCol="r",
              coldStartStrategy="drop", **blocks)
    model = als.fit(ratings)
    item_factors = (model.itemFactors.join(items, model.itemFactors.id == items.i)
                    .select(F.col("ITEM_ID").alias("id"), "features"))
    user_factors = (model.userFactors.join(users, model.userFactors.id == users.u)
                    .select(F.col("USER_ID").alias("id"), "features"))
    return item_factors, user_factors


def neighbours(events: DataFrame, a) -> DataFrame:
    """Item-item neighbours: pairs of items the same users interacted with, weighted by the
    cosine of their user sets (co / sqrt(n_i * n_j)), the top --neighbors per item."""
    first = events.groupBy("USER_ID", "ITEM_ID").agg(F.max("TIMESTAMP").alias("t"))
    recent = (first.withColumn("pos", F.row_number().over(
        Window.partitionBy("USER_ID").orderBy(F.desc("t"), F.asc("ITEM_ID"))))
        .where(F.col("pos") <= a.max_user_history).select("USER_ID", "ITEM_ID"))
    counts = recent.groupBy("ITEM_ID").agg(F.count(F.lit(1)).alias("n"))
    left = recent.select("USER_ID", F.col("ITEM_ID").alias("item"))
    right = recent.select("USER_ID", F.col("ITEM_ID").alias("neighbour"))
    co = (left.join(right, "USER_ID").where(F.col("item") != F.col("neighbour"))
          .groupBy("item", "neighbour").agg(F.count(F.lit(1)).alias("co"))
          .where(F.col("co") >= a.min_users))
    ni = counts.select(F.col("ITEM_ID").alias("item"), F.col("n").alias("ni"))
    nj = counts.select(F.col("ITEM_ID").alias("neighbour"), F.col("n").alias("nj"))
    weighted = (co.join(ni, "item").join(nj, "neighbour")
                .withColumn("weight", (F.col("co") / F.sqrt(F.col("ni") * F.col("nj"))).cast("float")))
    rank = Window.partitionBy("item").orderBy(F.desc("weight"), F.asc("neighbour"))
    return (weighted.withColumn("k", F.row_number().over(rank)).where(F.col("k") <= a.neighbors)
            .select("item", "neighbour", "weight"))


def popularity(events: DataFrame, a) -> DataFrame:
    """Distinct users per item (what `popularity-count` ranks by)."""
    return (events.groupBy(F.col("ITEM_ID").alias("item"))
            .agg(F.countDistinct("USER_ID").alias("count"))
            .where(F.col("count") >= a.min_users))


def main(argv) -> int:
    a = parse_args(argv)
    t0 = time.time()
    spark = SparkSession.builder.appName("edgerec-artefacts").getOrCreate()
    if a.partitions:
        spark.conf.set("spark.sql.shuffle.partitions", str(a.partitions))
    events = read_interactions(spark, a.interactions, a.format)
    if a.event_type:
        events = events.where(F.col("EVENT_TYPE") == a.event_type.lower())
    events = events.cache()
    out = a.output.rstrip("/")
    step = time.time()

    def done(what):
        nonlocal step
        print(f"edgerec artefacts: {what} in {time.time() - step:.1f}s", flush=True)
        step = time.time()

    item_factors, user_factors = factors(events, a)
    item_factors.write.mode("overwrite").parquet(f"{out}/item_factors")
    user_factors.write.mode("overwrite").parquet(f"{out}/user_factors")
    done(f"ALS factors (rank {a.rank}, {a.max_iter} iterations)")
    neighbours(events, a).write.mode("overwrite").parquet(f"{out}/neighbors")
    done(f"neighbours (top {a.neighbors} per item)")
    popularity(events, a).write.mode("overwrite").parquet(f"{out}/popularity")
    done("popularity")
    print(f"edgerec artefacts: wrote {out}/{{item_factors,user_factors,neighbors,popularity}} "
          f"in {time.time() - t0:.1f}s", flush=True)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
