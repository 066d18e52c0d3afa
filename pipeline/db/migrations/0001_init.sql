-- Campaigns, their draft letter and sender, and the housings and owners they
-- write to, in the shapes the upstream API serves (see the data contract).

CREATE TABLE senders (
    id         uuid PRIMARY KEY,
    name       text,
    service    text,
    first_name text,
    last_name  text,
    address    text,
    email      text,
    phone      text
);

CREATE TABLE signatories (
    sender_id  uuid NOT NULL REFERENCES senders (id) ON DELETE CASCADE,
    rank       smallint NOT NULL CHECK (rank BETWEEN 1 AND 2),
    first_name text,
    last_name  text,
    role       text,
    file       jsonb CHECK (file IS NULL OR jsonb_typeof(file) = 'object'),
    PRIMARY KEY (sender_id, rank)
);

CREATE TABLE campaigns (
    id               uuid PRIMARY KEY,
    establishment_id uuid NOT NULL,
    title            text NOT NULL,
    description      text,
    status           text NOT NULL DEFAULT 'draft'
                     CHECK (status IN ('draft', 'sending', 'in-progress', 'archived')),
    file             text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);

CREATE INDEX campaigns_establishment_idx ON campaigns (establishment_id, created_at);

CREATE TABLE drafts (
    id           uuid PRIMARY KEY,
    campaign_id  uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    subject      text NOT NULL DEFAULT '',
    body         text NOT NULL DEFAULT '',
    written_at   date,
    written_from text,
    -- At most two {id, type, url} files, as the letter has room for two logos.
    logo         jsonb NOT NULL DEFAULT '[]'
                 CHECK (jsonb_typeof(logo) = 'array' AND jsonb_array_length(logo) <= 2),
    sender_id    uuid REFERENCES senders (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- The source takes a campaign's first draft.
CREATE INDEX drafts_campaign_idx ON drafts (campaign_id, created_at, id);
CREATE INDEX drafts_sender_idx ON drafts (sender_id);

CREATE TABLE owners (
    id                 uuid PRIMARY KEY,
    full_name          text NOT NULL,
    raw_address        text[] NOT NULL DEFAULT '{}',
    -- The address normalised by the Base Adresse Nationale, when it matched.
    ban_label          text,
    ban_house_number   text,
    ban_street         text,
    ban_postal_code    text,
    ban_city           text,
    ban_score          real CHECK (ban_score BETWEEN 0 AND 1),
    additional_address text,
    birth_date         date,
    email              text,
    phone              text,
    kind               text
);

CREATE TABLE housings (
    id                  uuid PRIMARY KEY,
    invariant           text,
    local_id            text,
    raw_address         text[] NOT NULL DEFAULT '{}',
    geo_code            text,
    plot_id             text,
    cadastral_reference text,
    housing_kind        text CHECK (housing_kind IN ('APPART', 'MAISON')),
    living_area         integer CHECK (living_area > 0),
    rooms_count         integer CHECK (rooms_count >= 0),
    building_year       integer,
    vacancy_start_year  integer,
    energy_consumption  text CHECK (energy_consumption IN ('A', 'B', 'C', 'D', 'E', 'F', 'G')),
    latitude            double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude           double precision CHECK (longitude BETWEEN -180 AND 180),
    ban_label           text,
    ban_score           real CHECK (ban_score BETWEEN 0 AND 1)
);

CREATE INDEX housings_local_id_idx ON housings (local_id);

-- position is the campaign order: the order of the letters in the PDF.
CREATE TABLE campaign_housings (
    campaign_id uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    housing_id  uuid NOT NULL REFERENCES housings (id) ON DELETE CASCADE,
    position    integer NOT NULL,
    PRIMARY KEY (campaign_id, housing_id),
    UNIQUE (campaign_id, position)
);

CREATE INDEX campaign_housings_housing_idx ON campaign_housings (housing_id);

-- rank 1 is the primary owner, the one a letter is addressed to.
CREATE TABLE owners_housings (
    housing_id uuid NOT NULL REFERENCES housings (id) ON DELETE CASCADE,
    owner_id   uuid NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    rank       smallint NOT NULL CHECK (rank >= 1),
    PRIMARY KEY (housing_id, owner_id),
    -- One owner per rank, so one primary owner; also serves the source's join on rank 1.
    UNIQUE (housing_id, rank)
);

CREATE INDEX owners_housings_owner_idx ON owners_housings (owner_id);
